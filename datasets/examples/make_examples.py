r"""Writes the small example files of the README's "Your own data" section (seeded; nothing is copied).

    python datasets/examples/make_examples.py [--out datasets/examples] [--seed 0]

Files, one per task and format:

- ``reverse_upper.tsv``: 600 ``source<TAB>target<TAB>attribution`` lines of a toy language whose
  target is the source's words in reverse order, upper-cased (Tatoeba's column layout).
- ``subjects/{train,val}.{body,subject}``: 400 + 40 line-aligned email bodies and subject lines
  written from templates (no test split: it is cut from train).
- ``trees.tsv``: 400 ``sentence<TAB>bracketed tree`` lines: arithmetic in prefix notation and its tree.
- ``reviews.csv``: 300 ``sequence,label`` records, the label given by the one opinion word.
- ``counting.txt``: 300 sentences for a language model.
- ``volleyball/videos/{7,10}/annotations.txt``: toy frames in the Volleyball layout (video 7 trains,
  video 10 tests); the group activity is the side and action of the one player whose box shows it.
- ``inputs/*``: a few inputs per task for ``graphrnn predict``.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WORDS = "red blue cat dog sees eats big small the a runs fast".split()
TOPICS = {"meeting": ["meeting", "call", "review"], "report": ["report", "budget", "forecast"],
          "party": ["party", "lunch", "dinner"]}
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
OPINIONS = {"pos": ["good", "great", "fine", "lovely"], "neg": ["bad", "awful", "poor", "dull"]}
FILLER = ["the", "movie", "was", "plot", "acting", "really", "quite"]


def write(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def translation(draw: random.Random, count: int = 600):
    for _ in range(count):
        words = [draw.choice(WORDS) for _ in range(draw.randint(3, 6))]
        yield f"{' '.join(words)}\t{' '.join(w.upper() for w in reversed(words))}\tCC-BY 2.0 (written by graphrnn)"


def email(draw: random.Random):
    topic = draw.choice(sorted(TOPICS))
    thing, day = draw.choice(TOPICS[topic]), draw.choice(DAYS)
    body = draw.choice([f"hi all , the {thing} is moved to {day} . please let me know if that works .",
                        f"please note that our {thing} will be on {day} this week . thanks .",
                        f"the {thing} planned earlier now happens on {day} ; see you there ."])
    return body, f"{thing} on {day}"


def expression(draw: random.Random, depth: int):
    """A random arithmetic expression as ``(label, children)``: ``plus``/``times`` take two operands,
    ``minus`` one, digits none."""
    if depth == 0 or draw.random() < 0.3:
        return str(draw.randint(0, 9)), []
    operator = draw.choice(["plus", "times", "minus"])
    return operator, [expression(draw, depth - 1) for _ in range(1 if operator == "minus" else 2)]


def prefix(node) -> list:
    label, children = node
    return [label] + [token for child in children for token in prefix(child)]


def bracketed(node) -> str:
    label, children = node
    return label if not children else f"{label} ( {' '.join(bracketed(child) for child in children)} )"


def trees(draw: random.Random, count: int = 400):
    """Prefix notation -> the expression's tree under ROOT (a DRNN must learn each operator's arity)."""
    for _ in range(count):
        node = expression(draw, 3)
        yield f"{' '.join(prefix(node))}\tROOT ( {bracketed(node)} )"


def reviews(draw: random.Random, count: int = 300):
    yield "sequence,label"
    for _ in range(count):
        label = draw.choice(sorted(OPINIONS))
        words = [draw.choice(FILLER) for _ in range(draw.randint(2, 6))]
        words.insert(draw.randint(0, len(words)), draw.choice(OPINIONS[label]))
        yield f"\"{' '.join(words)}\",{label}"


def counting(draw: random.Random, count: int = 300):
    numbers = ["one", "two", "three", "four", "five", "six"]
    for _ in range(count):
        start, subject = draw.randint(0, 2), draw.choice(["we count", "they count", "count"])
        yield f"{subject} {' '.join(numbers[start:start + draw.randint(2, 4)])} ."


def volleyball_frame(draw: random.Random, frame: int) -> str:
    """12 players, six per side. One player on the activity's side does its action, and its box shows it
    (spiking: high up and tall; setting: tall and wide; digging: low and crouched); the others stand on
    that side and wait on the other side."""
    side, action = draw.choice("lr"), draw.choice(["spiking", "setting", "digging"])
    activity = {"spiking": "spike", "setting": "set", "digging": "pass"}[action]
    actor = draw.randint(0, 5) if side == "l" else draw.randint(6, 11)
    players = []
    for k in range(12):
        left = k < 6
        x = draw.randint(100, 600) + (0 if left else 700)
        y, h, width = draw.randint(300, 500), draw.randint(90, 130), 0.5
        doing = "standing" if left == (side == "l") else "waiting"
        if k == actor:
            doing = action
            y, h, width = {"spiking": (draw.randint(150, 200), draw.randint(130, 150), 0.5),
                           "setting": (y, draw.randint(130, 150), 0.8),
                           "digging": (draw.randint(450, 520), draw.randint(60, 75), 1.2)}[action]
        players.append(f"{x} {y} {round(h * width)} {h} {doing}")
    return f"{frame}.jpg {side}_{activity} " + " ".join(players)


def main(args: argparse.Namespace) -> None:
    out = Path(args.out)

    def draw(offset: int) -> random.Random:  # one generator per file: changing one file leaves the others
        return random.Random(args.seed * 100 + offset)

    write(out / "reverse_upper.tsv", translation(draw(0)))
    emails = draw(1)
    for split, count in (("train", 400), ("val", 40)):
        pairs = [email(emails) for _ in range(count)]
        write(out / "subjects" / f"{split}.body", [body for body, _ in pairs])
        write(out / "subjects" / f"{split}.subject", [subject for _, subject in pairs])
    write(out / "trees.tsv", trees(draw(2)))
    write(out / "reviews.csv", reviews(draw(3)))
    write(out / "counting.txt", counting(draw(4)))
    frames = draw(5)
    for video, count in (("7", 240), ("10", 60)):
        write(out / "volleyball" / "videos" / video / "annotations.txt",
              [volleyball_frame(frames, 1000 + 10 * i) for i in range(count)])
    inputs = out / "inputs"
    write(inputs / "sentences.txt", ["red cat sees", "the big dog eats a cat", "blue runs fast"])
    write(inputs / "emails.txt", ["hi all , the budget is moved to friday . please let me know if that works .",
                                  "please note that our lunch will be on monday this week . thanks ."])
    write(inputs / "tree_sentences.txt", ["plus 1 2", "times minus 3 plus 4 5", "minus minus 7"])
    write(inputs / "reviews.txt", ["the acting was great", "quite dull really", "the plot"])
    write(inputs / "prefixes.txt", ["we count one", "count three"])
    write(inputs / "scenes.txt", [volleyball_frame(draw(6), 5000),
                                  "5010.jpg 100 400 50 100 200 410 55 110 900 380 50 100"])
    write(inputs / "scenes.jsonl", [json.dumps({"boxes": [[120, 400, 50, 100], [300, 420, 55, 110], [820, 380, 50, 100],
                                                          [1000, 390, 60, 120]]})])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent), help="folder to write into")
    parser.add_argument("--seed", type=int, default=0)
    main(parser.parse_args())
