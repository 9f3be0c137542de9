#!/usr/bin/env python3
"""Checks the support assistant's language data against its test phrases.

    python3 scripts/check-assistant-data.py        (from the repository root)

Reads Sources/SandiCore/Resources/assistant/<lang>.json and
Tests/SandiCoreTests/Resources/assistant-phrases.json, and checks:

  * the schema of every language file: exactly the expected keys, non-empty keyword lists,
    every reply present with exactly its placeholders and no other {...}, no digit run of 4 or
    more in any reply or channel name (a reply never contains a code), the three channels;
  * the keywords: none normalizes to nothing, none is listed twice in a language, each one
    typed as a message selects its own intent in its own language (not shadowed by a keyword
    of an intent tried earlier), Latin-only keywords of unspaced languages are at least 5
    letters (they match as substrings of any message that falls through to that language);
  * the test phrases: every phrase selects exactly its intent, matching the way Sandi does
    (its own language first, then English, then the others), and the answer does not depend
    on the order of "the others" or on whether substring matching respects grapheme clusters;
    every "none" phrase matches no keyword of any language;
  * the help reply: each example phrase in “…” selects an intent in its own language, and the
    examples cover every intent.

Matching (as in Sources/SandiCore/Assistant/Assistant.swift): NFKC, lowercase, every character
that is not a letter, digit or combining mark becomes a space, runs of spaces collapse. Spaced
languages: " " + keyword + " " must occur in " " + message + " ". Unspaced languages: the
keyword without spaces must occur in the message without spaces.

Exits 1 with one line per failure; standard library only.
"""

import json
import os
import re
import sys
import unicodedata

LANGS = ["id", "en", "ms", "vi", "fil", "th", "my", "km", "ne", "bn", "hi", "zh"]
SPACED = {"id", "en", "ms", "vi", "fil", "ne", "bn", "hi"}
INTENTS = ["not_me", "human", "send_sms", "send_whatsapp", "send_voice", "send_again", "where_is_code"]
PLACEHOLDERS = {
    "where_queued": set(),
    "where_sent": {"channel"},
    "where_delivered": {"channel"},
    "where_failed": {"channel"},
    "next_step": {"next_channel", "seconds"},
    "next_none": set(),
    "resent": {"channel"},
    "resend_wait": {"seconds"},
    "resend_limit": set(),
    "channel_unavailable": {"channel"},
    "not_me_done": set(),
    "ticket_opened": {"ticket"},
    "finished": set(),
    "no_verification": set(),
    "help": set(),
    "refused": set(),
    "slow_down": set(),
    "text_only": set(),
}
CHANNELS = {"sms", "whatsapp", "voice"}
TOP_KEYS = {"language", "spaced", "intents", "replies", "channels"}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "Sources", "SandiCore", "Resources", "assistant")
PHRASES = os.path.join(ROOT, "Tests", "SandiCoreTests", "Resources", "assistant-phrases.json")

failures = []


def fail(message):
    failures.append(message)


# --- normalization and matching ------------------------------------------------------------

def keep(ch):
    cat = unicodedata.category(ch)
    return cat[0] in "LMN"


def normalize(text):
    """The spaced form: tokens separated by single spaces, no padding."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(" +", " ", "".join(ch if keep(ch) else " " for ch in text)).strip()


def extends_cluster(ch, prev):
    """Whether `ch` continues the grapheme cluster of the character before it (an
    approximation of UAX #29 good enough for the scripts here)."""
    if unicodedata.category(ch)[0] == "M":
        return True
    if ch in "\u200d\u0e33\u0eb3":  # ZWJ; Thai and Lao SARA AM are spacing marks
        return True
    return prev == "\u200d"


def find_at_boundaries(haystack, needle):
    """Substring search that only accepts matches starting and ending on a grapheme cluster
    boundary (Swift's String.contains compares Characters)."""
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        ok_start = start == 0 or not extends_cluster(haystack[start], haystack[start - 1])
        ok_end = end == len(haystack) or not extends_cluster(haystack[end], haystack[end - 1])
        if ok_start and ok_end:
            return True
        start = haystack.find(needle, start + 1)
    return False


class Language:
    def __init__(self, code, data):
        self.code = code
        self.spaced = code in SPACED
        self.data = data
        self.keywords = []  # [(intent, original, normalized)]
        for intent in INTENTS:
            for word in data.get("intents", {}).get(intent, []) or []:
                if not isinstance(word, str):
                    continue
                norm = normalize(word)
                if not self.spaced:
                    norm = norm.replace(" ", "")
                self.keywords.append((intent, word, norm))

    def first_hit(self, message, strict):
        """(intent, keyword) of the first keyword (in intent priority) found in the message."""
        spaced_text = " " + normalize(message) + " "
        compact = normalize(message).replace(" ", "")
        for intent in INTENTS:
            for _, word, norm in (k for k in self.keywords if k[0] == intent):
                if not norm:
                    continue
                if self.spaced:
                    hit = (" " + norm + " ") in spaced_text
                elif strict:
                    hit = find_at_boundaries(compact, norm)
                else:
                    hit = norm in compact
                if hit:
                    return intent, word
        return None

    def all_hits(self, message):
        spaced_text = " " + normalize(message) + " "
        compact = normalize(message).replace(" ", "")
        out = []
        for intent, word, norm in self.keywords:
            if not norm:
                continue
            if (" " + norm + " ") in spaced_text if self.spaced else norm in compact:
                out.append((intent, word))
        return out


def classify(languages, lang, message, strict=True, others=None):
    """Sandi's match: the message's language, then English, then the others (sorted, as the
    Swift catalog does, unless `others` gives another order). Returns (intent, lang, keyword)."""
    order = [lang] + (["en"] if lang != "en" else [])
    rest = others if others is not None else sorted(c for c in languages if c not in order)
    for code in order + [c for c in rest if c not in order]:
        hit = languages[code].first_hit(message, strict)
        if hit:
            return hit[0], code, hit[1]
    return None


def describe(result):
    if result is None:
        return "no intent"
    intent, code, word = result
    return f"{intent} (keyword {word!r} in {code})"


# --- checks ---------------------------------------------------------------------------------

def check_schema(code, data):
    where = f"{code}.json"
    if not isinstance(data, dict):
        fail(f"{where}: top level is not an object")
        return False
    keys = set(data)
    if keys != TOP_KEYS:
        fail(f"{where}: keys {sorted(keys)} != {sorted(TOP_KEYS)}")
    if data.get("language") != code:
        fail(f"{where}: \"language\" is {data.get('language')!r}, expected {code!r}")
    if data.get("spaced") is not (code in SPACED):
        fail(f"{where}: \"spaced\" is {data.get('spaced')!r}, expected {code in SPACED}")

    intents = data.get("intents")
    if not isinstance(intents, dict):
        fail(f"{where}: \"intents\" is not an object")
    else:
        if set(intents) != set(INTENTS):
            fail(f"{where}: intents {sorted(intents)} != {sorted(INTENTS)}")
        for intent in INTENTS:
            words = intents.get(intent)
            if not isinstance(words, list) or not words:
                fail(f"{where}: intents.{intent} must be a non-empty list")
                continue
            for word in words:
                if not isinstance(word, str) or not word.strip():
                    fail(f"{where}: intents.{intent} has an empty or non-string keyword {word!r}")

    replies = data.get("replies")
    if not isinstance(replies, dict):
        fail(f"{where}: \"replies\" is not an object")
    else:
        if set(replies) != set(PLACEHOLDERS):
            missing = sorted(set(PLACEHOLDERS) - set(replies))
            extra = sorted(set(replies) - set(PLACEHOLDERS))
            fail(f"{where}: replies missing {missing}, unexpected {extra}")
        for key, expected in PLACEHOLDERS.items():
            text = replies.get(key)
            if not isinstance(text, str) or not text.strip():
                fail(f"{where}: replies.{key} must be a non-empty string")
                continue
            found = set(re.findall(r"\{([^{}]*)\}", text))
            if found != expected:
                fail(f"{where}: replies.{key} has placeholders {sorted(found)}, expected {sorted(expected)}")
            stripped = re.sub(r"\{[a-z_]+\}", "", text)
            if "{" in stripped or "}" in stripped:
                fail(f"{where}: replies.{key} has a stray brace: {text!r}")
            if re.search(r"\d{4,}", stripped):
                fail(f"{where}: replies.{key} contains a run of 4+ digits (looks like a code): {text!r}")

    channels = data.get("channels")
    if not isinstance(channels, dict) or set(channels) != CHANNELS:
        fail(f"{where}: \"channels\" must have exactly {sorted(CHANNELS)}")
    else:
        for key, name in channels.items():
            if not isinstance(name, str) or not name.strip():
                fail(f"{where}: channels.{key} must be a non-empty string")
            elif "{" in name or "}" in name or re.search(r"\d{4,}", name):
                fail(f"{where}: channels.{key} must be a plain name: {name!r}")
    return True


def check_keywords(languages, code):
    language = languages[code]
    seen = {}
    for intent, word, norm in language.keywords:
        if not norm:
            fail(f"{code}: keyword {word!r} ({intent}) normalizes to nothing")
            continue
        if norm in seen:
            fail(f"{code}: keyword {word!r} ({intent}) duplicates {seen[norm][1]!r} ({seen[norm][0]})")
        else:
            seen[norm] = (intent, word)
        if not language.spaced and re.fullmatch(r"[a-z0-9]+", norm) and len(norm) < 5:
            fail(f"{code}: Latin-only keyword {word!r} is too short for substring matching (it would match inside other words)")
        hit = language.first_hit(word, strict=True)
        if hit is None or hit[0] != intent:
            fail(f"{code}: keyword {word!r} ({intent}) typed as a message selects {hit[0] if hit else 'nothing'}"
                 + (f" via {hit[1]!r}" if hit else "") + " — it is shadowed or can never match")


def check_phrase(languages, lang, intent, phrase):
    expected = None if intent == "none" else intent
    strict = classify(languages, lang, phrase, strict=True)
    loose = classify(languages, lang, phrase, strict=False)
    got = strict[0] if strict else None
    if intent == "none":
        hits = [(code, hit) for code in LANGS for hit in languages[code].all_hits(phrase)]
        if hits:
            shown = ", ".join(f"{h[0]} {h[1]!r} in {c}" for c, h in hits[:4])
            fail(f"phrases {lang}/none: {phrase!r} matches {shown}")
        return
    if got != expected:
        fail(f"phrases {lang}/{intent}: {phrase!r} selects {describe(strict)}")
        return
    if (loose[0] if loose else None) != got:
        fail(f"phrases {lang}/{intent}: {phrase!r} selects {describe(loose)} with plain substring matching "
             f"but {describe(strict)} with grapheme-aware matching")
    # Decided among "the others"? Then every other language that matches must agree.
    if strict[1] not in (lang, "en"):
        answers = {}
        for code in LANGS:
            if code in (lang, "en"):
                continue
            hit = languages[code].first_hit(phrase, strict=True)
            if hit:
                answers[code] = hit
        if len({h[0] for h in answers.values()}) > 1:
            shown = ", ".join(f"{c}: {h[0]} via {h[1]!r}" for c, h in answers.items())
            fail(f"phrases {lang}/{intent}: {phrase!r} depends on the order of fallback languages ({shown})")


def check_help(languages, code):
    text = languages[code].data.get("replies", {}).get("help", "")
    examples = re.findall(r"“([^”]+)”", text) + re.findall(r"\"([^\"]+)\"", text) + re.findall(r"「([^」]+)」", text)
    if not examples:
        fail(f"{code}: replies.help has no example phrases in “…”")
        return 0
    covered = set()
    for example in examples:
        hit = languages[code].first_hit(example, strict=True)
        if hit is None:
            fail(f"{code}: help example “{example}” matches no intent in {code}")
        else:
            covered.add(hit[0])
    missing = [i for i in INTENTS if i not in covered]
    if missing:
        fail(f"{code}: help examples do not cover {missing}")
    return len(examples)


def main():
    languages = {}
    if not os.path.isdir(DATA_DIR):
        print(f"FAIL: {DATA_DIR} does not exist")
        return 1
    present = sorted(f[:-5] for f in os.listdir(DATA_DIR) if f.endswith(".json"))
    for extra in sorted(set(present) - set(LANGS)):
        fail(f"{extra}.json: unexpected language file")
    for code in LANGS:
        path = os.path.join(DATA_DIR, f"{code}.json")
        if not os.path.exists(path):
            fail(f"{code}.json: missing")
            continue
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as error:
            fail(f"{code}.json: cannot be read as JSON: {error}")
            continue
        if check_schema(code, data):
            languages[code] = Language(code, data)

    for code in languages:
        check_keywords(languages, code)
    help_counts = {code: check_help(languages, code) for code in languages}

    phrase_counts = {}
    try:
        with open(PHRASES, encoding="utf-8") as f:
            phrases = json.load(f)
    except (OSError, ValueError) as error:
        fail(f"assistant-phrases.json: cannot be read: {error}")
        phrases = {}
    if phrases and set(phrases) != set(LANGS):
        fail(f"assistant-phrases.json: languages {sorted(phrases)} != {sorted(LANGS)}")
    if len(languages) == len(LANGS):
        for lang in LANGS:
            table = phrases.get(lang)
            if not isinstance(table, dict):
                if phrases:
                    fail(f"assistant-phrases.json: no phrases for {lang}")
                continue
            if set(table) != set(INTENTS) | {"none"}:
                fail(f"assistant-phrases.json: {lang} has keys {sorted(table)}, expected the 7 intents and \"none\"")
            count = 0
            for intent in INTENTS + ["none"]:
                items = table.get(intent) or []
                minimum = 3 if intent == "none" else 2
                if len(items) < minimum:
                    fail(f"assistant-phrases.json: {lang}/{intent} needs at least {minimum} phrases, has {len(items)}")
                for phrase in items:
                    count += 1
                    check_phrase(languages, lang, intent, phrase)
            phrase_counts[lang] = count
    else:
        fail("phrases not checked: some language files are missing or malformed")

    print(f"{'lang':<5} {'keywords':>8} {'phrases':>8} {'help ex.':>8}   keywords per intent ({', '.join(INTENTS)})")
    for code in LANGS:
        if code not in languages:
            print(f"{code:<5} {'-':>8}")
            continue
        per = [len(languages[code].data['intents'].get(i, [])) for i in INTENTS]
        print(f"{code:<5} {sum(per):>8} {phrase_counts.get(code, 0):>8} {help_counts.get(code, 0):>8}   {per}")

    if failures:
        print(f"\n{len(failures)} failure(s):")
        for message in failures:
            print(f"FAIL: {message}")
        return 1
    print("\nOK: schema, keywords, test phrases and help examples of all 12 languages check out.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
