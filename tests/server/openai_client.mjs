// The official `openai` npm package as a client of dsmoe serve: chat and text completions, streamed and not,
// logprobs, the model list, and errors turned into the SDK's typed errors. Prints "ok"/"FAIL" lines and a last
// line "N passed, M failed". Usage: node openai_client.mjs BASE_URL API_KEY (NODE_PATH holds the package).
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
let passed = 0, failed = 0;
function check(name, ok, detail) {
  ok ? passed++ : failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok || detail === undefined ? "" : "\n     " + JSON.stringify(detail)}`);
}
const messages = [{ role: "user", content: "In the beginning" }];

const models = await client.models.list();
check("models.list names the model", models.data.length === 1 && models.data[0].id === "dsmoe-kjv-9m", models.data);

const whole = await client.chat.completions.create({ model: "dsmoe-kjv-9m", messages, max_tokens: 20, seed: 9 });
check("chat.completions.create: a chat.completion with a message and usage",
  whole.object === "chat.completion" && typeof whole.choices[0].message.content === "string" &&
  ["stop", "length"].includes(whole.choices[0].finish_reason) && whole.usage.completion_tokens > 0, whole);

let streamed = "", usage = null, finish = null, chunks = 0;
const stream = await client.chat.completions.create({
  model: "dsmoe-kjv-9m", messages, max_tokens: 20, seed: 9, stream: true, stream_options: { include_usage: true },
});
for await (const chunk of stream) {
  chunks++;
  if (chunk.choices.length > 0) {
    streamed += chunk.choices[0].delta.content ?? "";
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  if (chunk.usage) usage = chunk.usage;
}
check("a chat stream adds up to the same answer (same seed), with finish_reason and usage",
  chunks > 2 && streamed === whole.choices[0].message.content && finish === whole.choices[0].finish_reason &&
  usage !== null && usage.completion_tokens === whole.usage.completion_tokens, { streamed, whole, usage });

const text = await client.completions.create({ model: "dsmoe-kjv-9m", prompt: "And God said", max_tokens: 12,
  temperature: 0 });
let textStreamed = "";
for await (const chunk of await client.completions.create({ model: "dsmoe-kjv-9m", prompt: "And God said",
  max_tokens: 12, temperature: 0, stream: true })) {
  textStreamed += chunk.choices[0]?.text ?? "";
}
check("completions.create, streamed and not, give the same greedy text",
  text.object === "text_completion" && text.choices[0].text.length > 0 && textStreamed === text.choices[0].text,
  { text, textStreamed });

const withLogprobs = await client.chat.completions.create({ model: "dsmoe-kjv-9m", messages, max_tokens: 5,
  logprobs: true, top_logprobs: 2 });
const content = withLogprobs.choices[0].logprobs?.content ?? [];
check("logprobs with top_logprobs: one entry per token, two alternatives each",
  content.length > 0 && content.every((c) => c.logprob <= 0 && c.top_logprobs.length === 2), withLogprobs.choices[0]);

try {
  await client.chat.completions.create({ model: "dsmoe-kjv-9m", messages, temperature: 7 });
  check("a bad parameter is an error", false);
} catch (error) {
  check("a bad parameter is the SDK's BadRequestError naming it",
    error instanceof OpenAI.BadRequestError && error.status === 400 && error.param === "temperature",
    { status: error.status, param: error.param, message: error.message });
}
try {
  await new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 }).models.list();
  check("a wrong key is an error", false);
} catch (error) {
  check("a wrong key is the SDK's AuthenticationError", error instanceof OpenAI.AuthenticationError &&
    error.status === 401, { status: error.status, message: error.message });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
