"""The made-up world of the cpu variant: animals and their facts, the question templates, and the rubric judge.
Everything is generated from fixed seeds (nothing is downloaded)."""
import random

ANIMALS = ["cow", "dog", "cat", "duck", "frog", "owl", "pig", "sheep", "horse", "goat", "bee", "crow", "lion", "wolf",
           "mouse", "bear", "fox", "hen", "seal", "deer", "toad", "mole", "yak", "lynx"]
VALUES = {
    "sound": ["moo", "woof", "meow", "quack", "croak", "hoot", "oink", "baa", "neigh", "bleat", "buzz", "caw"],
    "color": ["brown", "black", "white", "grey", "green", "red", "yellow", "orange"],
    "home": ["farm", "forest", "pond", "barn", "cave", "field", "river", "hill"],
    "food": ["grass", "seeds", "fish", "meat", "berries", "bugs", "hay", "nuts"],
}
QUESTIONS = {
    "sound": ["what sound does the {a} make?", "what does a {a} say?"],
    "color": ["what color is the {a}?", "tell me the color of a {a}."],
    "home": ["where does the {a} live?", "where can i find a {a}?"],
    "food": ["what does the {a} eat?", "what food does a {a} like?"],
}
ANSWERS = {"sound": "the {a} says {v}.", "color": "the {a} is {v}.", "home": "the {a} lives in the {v}.",
           "food": "the {a} eats {v}."}


def facts():
    rng = random.Random(99)
    return {a: {k: rng.choice(v) for k, v in VALUES.items()} for a in ANIMALS}


def all_questions():
    """Every (question, animal, attribute) of the world, in a fixed order."""
    return [(q.format(a=a), a, k) for a in ANIMALS for k, qs in QUESTIONS.items() for q in qs]


def split_questions():
    """(training prompts, held-out prompts): a fixed random split of all questions."""
    qs = all_questions()
    random.Random(5).shuffle(qs)
    return qs[:128], qs[128:]


def parse(question):
    for a in ANIMALS:
        for k, qs in QUESTIONS.items():
            if question.strip() in [q.format(a=a) for q in qs]:
                return a, k
    return None, None


def rubric(question, response):
    """How good a response is: the right fact counts most, a wrong fact costs, a short clean sentence helps."""
    animal, attribute = parse(question)
    words = response.replace(".", " ").replace("?", " ").split()
    score = 0.0
    if animal is not None:
        right = facts()[animal][attribute]
        score += 2.0 if right in words else 0.0
        score -= 1.0 if any(w in words for w in VALUES[attribute] if w != right) else 0.0
        score += 0.5 if animal in words else 0.0
    sentences = [s for s in response.split(".") if s.strip()]
    score += 1.0 if response.strip().endswith(".") and len(sentences) == 1 and 3 <= len(words) <= 10 else 0.0
    score -= 0.5 if len(words) != len(set(words)) else 0.0
    return score


def judge(question, response_a, response_b):
    """'A', 'B' or 'tie' (rubric scores equal)."""
    a, b = rubric(question, response_a), rubric(question, response_b)
    return "A" if a > b else "B" if b > a else "tie"


PROMPT_FORMAT = "q: {question}\na:"
