"""Training text: the King James Bible from Debian's bible-kjv packages, plus synthetic passkey documents.

The text comes from the `bible` program (package bible-kjv) reading /usr/lib/bible.data (bible-kjv-text):
`bible -f Gen1:1-Rev22:21` prints one verse a line as "<Book><chapter>:<verse> <text>". A book becomes one
document: its verses one a line, chapters separated by a blank line, with no references or verse numbers,
so digits only ever occur in the passkey documents. Whole books are held out for validation.

Passkey documents (Mohtashami & Jaggi, "Landmark Attention", 2023): filler sentences, the key sentence
"The pass key is 48213. Remember it." at a random depth, more filler, then the question
"What is the pass key? The pass key is" and the answer " 48213" followed by ".". A document is a list of
(text, is_answer) segments that split at GPT-2 pre-token boundaries (a word never straddles two
segments), so tokenizing the segments one by one gives exactly the tokens of the whole text and the
answer tokens are known.

CLI: python3 corpus.py --out work/corpus.json
"""
import argparse
import json
import os
import re
import subprocess

# The `bible` program's abbreviations, in canonical order, and the books' names for the model card.
BOOKS = [
    ("Ge", "Genesis"), ("Exo", "Exodus"), ("Lev", "Leviticus"), ("Num", "Numbers"), ("Deu", "Deuteronomy"),
    ("Josh", "Joshua"), ("Jdgs", "Judges"), ("Ruth", "Ruth"), ("1Sm", "1 Samuel"), ("2Sm", "2 Samuel"),
    ("1Ki", "1 Kings"), ("2Ki", "2 Kings"), ("1Chr", "1 Chronicles"), ("2Chr", "2 Chronicles"),
    ("Ezra", "Ezra"), ("Neh", "Nehemiah"), ("Est", "Esther"), ("Job", "Job"), ("Psa", "Psalms"),
    ("Prv", "Proverbs"), ("Eccl", "Ecclesiastes"), ("SSol", "Song of Solomon"), ("Isa", "Isaiah"),
    ("Jer", "Jeremiah"), ("Lam", "Lamentations"), ("Eze", "Ezekiel"), ("Dan", "Daniel"), ("Hos", "Hosea"),
    ("Joel", "Joel"), ("Amos", "Amos"), ("Obad", "Obadiah"), ("Jonah", "Jonah"), ("Mic", "Micah"),
    ("Nahum", "Nahum"), ("Hab", "Habakkuk"), ("Zep", "Zephaniah"), ("Hag", "Haggai"), ("Zec", "Zechariah"),
    ("Mal", "Malachi"), ("Mat", "Matthew"), ("Mark", "Mark"), ("Luke", "Luke"), ("John", "John"),
    ("Acts", "Acts"), ("Rom", "Romans"), ("1Cor", "1 Corinthians"), ("2Cor", "2 Corinthians"),
    ("Gal", "Galatians"), ("Eph", "Ephesians"), ("Phi", "Philippians"), ("Col", "Colossians"),
    ("1Th", "1 Thessalonians"), ("2Th", "2 Thessalonians"), ("1Tim", "1 Timothy"), ("2Tim", "2 Timothy"),
    ("Titus", "Titus"), ("Phmn", "Philemon"), ("Heb", "Hebrews"), ("Jas", "James"), ("1Pet", "1 Peter"),
    ("2Pet", "2 Peter"), ("1Jn", "1 John"), ("2Jn", "2 John"), ("3Jn", "3 John"), ("Jude", "Jude"),
    ("Rev", "Revelation"),
]
# Held out whole: a narrative, wisdom, a prophet, an epistle and a short letter (1.6% of the words).
VALIDATION_BOOKS = ["Ruth", "Eccl", "Jonah", "Phi", "Jude"]

VERSE_LINE = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")

# One list for Python and C++: `dsmoe passkey` (include/dsmoe/passkey.h) reads the same file.
FILLER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "passkey_filler.txt")


def read_filler(path=FILLER_PATH):
    """The filler sentences in file order; lines starting with '#' and blank lines are skipped."""
    with open(path, encoding="ascii") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


FILLER = read_filler()


def read_bible():
    """[(abbreviation, [[verse text, ...] per chapter])] in canonical order, from the `bible` program."""
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True, text=True,
                         encoding="ascii").stdout
    books = {}
    for line in out.splitlines():
        m = VERSE_LINE.match(line)
        if not m:
            raise ValueError(f"unexpected line from `bible`: {line[:80]!r}")
        abbrev, chapter, text = m.group(1), int(m.group(2)), m.group(4).strip()
        chapters = books.setdefault(abbrev, [])
        if len(chapters) < chapter:
            chapters.append([])
        chapters[chapter - 1].append(text)
    order = [a for a, _ in BOOKS]
    if list(books) != order:
        raise ValueError(f"books from `bible` differ from the expected list: {list(books)}")
    return [(a, books[a]) for a in order]


def book_document(chapters):
    return "\n\n".join("\n".join(verses) for verses in chapters)


def build(out_path):
    books = read_bible()
    corpus = {"train": [], "validation": [], "train_books": [], "validation_books": []}
    for abbrev, chapters in books:
        split = "validation" if abbrev in VALIDATION_BOOKS else "train"
        corpus[split].append(book_document(chapters))
        corpus[split + "_books"].append(dict(BOOKS)[abbrev])
    for split in ("train", "validation"):
        text = "".join(corpus[split])
        if not text.isascii() or re.search(r"\d", text):
            raise ValueError(f"{split} text is expected to be ASCII without digits")
        corpus[split + "_words"] = sum(len(doc.split()) for doc in corpus[split])
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(corpus, f)
    return corpus


def passkey_document(rng, count_tokens, max_tokens, min_tokens=None):
    """Segments [(text, is_answer)] of one passkey document of at most max_tokens tokens (and, given
    min_tokens, about that many at least; by default anything from the fixed sentences up).

    count_tokens(text) -> int must be the tokenizer's count; pieces joined here start at pre-token
    boundaries, so the document's length is the sum of its pieces' counts.
    """
    key = str(rng.randint(10000, 99999))
    needle = f" The pass key is {key}. Remember it."
    question = " What is the pass key? The pass key is"
    fixed = count_tokens(needle) + count_tokens(question) + count_tokens(" " + key) + count_tokens(".")
    low = fixed + 8 if min_tokens is None else max(fixed + 8, min_tokens)
    budget = rng.randint(low, max_tokens) - fixed  # tokens left for filler
    filler = []
    while True:
        sentence = " " + rng.choice(FILLER)
        cost = count_tokens(sentence)
        if cost > budget:
            break
        filler.append(sentence)
        budget -= cost
    depth = rng.randint(0, len(filler))
    body = "".join(filler[:depth]) + needle + "".join(filler[depth:]) + question
    return [(body[1:], False), (" " + key, True), (".", False)]  # drop the first leading space


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    args = p.parse_args()
    corpus = build(args.out)
    print(f"corpus: {len(corpus['train'])} training books ({corpus['train_words']} words), "
          f"{len(corpus['validation'])} held out ({', '.join(corpus['validation_books'])}; "
          f"{corpus['validation_words']} words) -> {args.out}")


if __name__ == "__main__":
    main()
