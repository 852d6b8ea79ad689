"""The held-out books of the shipped model (corpus.VALIDATION_BOOKS: Ruth, Ecclesiastes, Jonah, Philippians,
Jude) as one text file for `dsmoe perplexity -f`. The Bible text itself is not committed; this rebuilds it
from Debian's bible-kjv and bible-kjv-text (apt-get install bible-kjv bible-kjv-text).

Each book is the document corpus.py makes of it (verses one a line, chapters separated by a blank line), in
canonical order. --separator eos (the default) writes the EOS token's text after every book, so that
`dsmoe perplexity`, which finds special tokens in the text as HF `tokenizers` does, scores the very token
stream evaluate.py scores (data.py: each book's tokens, then EOS). --separator blank joins the books with a
blank line instead: plain text, no special tokens.

CLI: python3 tools/train/heldout_text.py --out work/heldout.txt [--separator eos|blank]
"""
import argparse
import os

import corpus
from tokenizer import EOS


def heldout_books():
    """[(name, document)] of the held-out books, in canonical order."""
    names = dict(corpus.BOOKS)
    return [(names[abbrev], corpus.book_document(chapters)) for abbrev, chapters in corpus.read_bible()
            if abbrev in corpus.VALIDATION_BOOKS]


def heldout_text(separator="eos"):
    books = [doc for _, doc in heldout_books()]
    if separator == "eos":
        return "".join(doc + EOS for doc in books)
    if separator == "blank":
        return "\n\n".join(books) + "\n"
    raise ValueError(f"unknown separator {separator!r}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--separator", choices=["eos", "blank"], default="eos",
                   help="after each book: the EOS token's text (as evaluate.py's stream) or a blank line")
    args = p.parse_args()
    text = heldout_text(args.separator)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    names = ", ".join(name for name, _ in heldout_books())
    print(f"heldout_text: {names}: {len(text.split())} words, {len(text)} characters -> {args.out}")


if __name__ == "__main__":
    main()
