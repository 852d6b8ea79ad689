// Drives dsmoe serve's chat page in headless Chromium through puppeteer-core, as a person would: the settings
// typed into their fields, messages typed and sent with Enter, a long reply stopped with the Stop button. Prints
// one JSON document with what the page showed; check_page.py compares it with the server's own answers.
// Usage: node page_client.mjs URL CHROMIUM SCREENSHOT.png (puppeteer-core in node_modules beside this file).
import puppeteer from "puppeteer-core";

const [url, chromium, screenshot] = process.argv.slice(2);
const report = { requests_elsewhere: [], page_errors: [], turns: [], stop_attempts: [], cleared: false };
const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  // Root in a container has no user namespaces for Chromium's sandbox; /dev/shm may be tiny there.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1180, height: 780 });
  page.on("request", (request) => {
    if (!request.url().startsWith(url)) report.requests_elsewhere.push(request.url());
  });
  page.on("pageerror", (error) => report.page_errors.push(String(error)));
  await page.goto(url, { waitUntil: "networkidle0" });
  await page.waitForFunction(() => !document.getElementById("model").textContent.includes("connecting"));
  report.model_line = await page.$eval("#model", (e) => e.textContent);
  report.title = await page.title();

  async function setField(id, value) {
    await page.$eval(`#${id}`, (e) => { e.value = ""; });
    if (value !== "") await page.type(`#${id}`, String(value));
  }
  const turnCount = () => page.$$eval(".stats", (all) => all.length);
  async function lastTurn() {
    return page.evaluate(() => {
      const replies = document.querySelectorAll(".msg.assistant, .msg.error");
      return { reply: replies[replies.length - 1].textContent, stats: document.getElementById("last-stats").textContent };
    });
  }
  // Waits until the turn begun when `before` stats lines existed has its stats (written when the reply ends).
  async function waitForTurn(before) {
    await page.waitForFunction((n) => document.querySelectorAll(".stats").length > n &&
      document.querySelectorAll(".stats")[n].textContent !== "", { timeout: 120000 }, before);
  }
  async function send(message) {
    const before = await turnCount();
    await page.type("#input", message);
    await page.keyboard.press("Enter");
    return before;
  }

  // Greedy replies of a few tokens, checked word for word against the API by the Python side.
  await setField("temperature", 0);
  await setField("max_tokens", 16);
  await setField("seed", 5);
  for (const message of ["In the beginning", "And God said"]) {
    const before = await send(message);
    await waitForTurn(before);
    report.turns.push({ message, ...(await lastTurn()) });
  }

  // A long sampled reply, stopped with the Stop button once its first words show. Puppeteer's own click
  // arrives a round trip or two after it looks, and a 128-token reply at ~1,500 tokens/s can be over by then; so a
  // watcher inside the page clicks the button the moment the reply's first few words land (a click event on the
  // button, as a mouse's would be, handled by the page's own listener). If a reply still ends first, the next
  // message tries again.
  await setField("temperature", 0.8);
  await setField("max_tokens", 300);
  for (const message of ["Tell me of Noah", "Who was Moses?", "Sing a psalm"]) {
    await page.evaluate(() => {
      window.stopClick = null;
      const log = document.getElementById("log");
      const assistants = () => log.querySelectorAll(".msg.assistant");
      const seen = assistants().length;
      const watcher = new MutationObserver(() => {
        const replies = assistants();
        if (replies.length <= seen || replies[seen].textContent.length < 40) return;  // a few words in
        watcher.disconnect();
        const stop = document.getElementById("stop");
        window.stopClick = { visible: !stop.hidden, text_at_click: replies[seen].textContent };
        if (!stop.hidden) stop.click();
      });
      watcher.observe(log, { childList: true, subtree: true, characterData: true });
    });
    const before = await send(message);
    await waitForTurn(before);
    const click = await page.evaluate(() => window.stopClick);
    const turn = { message, stop_visible: Boolean(click && click.visible), ...(await lastTurn()) };
    turn.text_at_click = click ? click.text_at_click : null;
    turn.send_visible_after = await page.$eval("#go", (e) => !e.hidden);
    report.stop_attempts.push(turn);
    if (turn.stats.endsWith("· stopped")) break;
    // A whole reply fills much of the slot's context: start a new conversation so that the next one fits.
    await page.click("#clear");
    report.cleared = true;
  }

  // The conversation goes on after a stop.
  await setField("temperature", 0);
  await setField("max_tokens", 12);
  const before = await send("Amen");
  await waitForTurn(before);
  report.after_stop = { message: "Amen", ...(await lastTurn()) };
  report.history = await page.evaluate(() => history);  // the page's conversation, as it sends it
  await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
