"""Build the labelled Patient pairs for the $match evaluation (``pairs.json`` beside this file).

Deterministic (one seeded ``random.Random``): run ``.venv/bin/python
tests/data/identity/make_pairs.py`` from the repository root and the same file comes out.
Each pair is ``{"id", "kind", "label", "source", "patient", "candidate"}``: ``candidate`` is
the registered record, ``patient`` what a second registration, a feed or a field app sends
to ``$match``; ``label`` is ``match`` (the same person) or ``non-match``.

People: the 25 Synthea Patients in ``synthea-patients.ndjson`` (numeric name suffixes that
Synthea adds are removed) and synthetic Indian people built from ``indian-people.json``.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from fhir_server.identity import HealthIdConfig, issue_health_id  # noqa: E402

SEED = 20240515
HEALTH_ID = HealthIdConfig(system="https://example.org/fhir/sid/health-id")
SYNTHEA_MRN = "http://hospital.smarthealthit.org"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
KEYBOARD = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
TODAY = date(2024, 5, 15)


def neighbours(char: str) -> str:
    for row in KEYBOARD:
        if char in row:
            i = row.index(char)
            return row[max(0, i - 1):i] + row[i + 1:i + 2]
    return "e"


def typo(rng: random.Random, word: str) -> str:
    """One keyboard error: a neighbouring key, a dropped, doubled or transposed letter."""
    if len(word) < 4:
        return word + word[-1]
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["neighbour", "drop", "double", "transpose"])
    if kind == "neighbour":
        lower = word[i].lower()
        return word[:i] + rng.choice(neighbours(lower) or "e") + word[i + 1:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


SPELLING_RULES = [("bh", "b"), ("dh", "d"), ("kh", "k"), ("ee", "i"), ("i", "ee"), ("oo", "u"),
                  ("u", "oo"), ("v", "w"), ("w", "v"), ("sh", "s"), ("z", "j"), ("ksh", "x"),
                  ("a", "aa"), ("th", "t"), ("t", "th")]


def respell(rng: random.Random, word: str) -> str:
    """A spelling a clerk might hear: one rule from SPELLING_RULES where it applies."""
    lower = word.lower()
    rules = [(a, b) for a, b in SPELLING_RULES if a in lower[1:]]
    if not rules:
        return typo(rng, word)
    a, b = rng.choice(rules)
    i = lower.index(a, 1)
    return (word[:i] + b + word[i + len(a):]).capitalize()


def strip_digits(text: str) -> str:
    return "".join(c for c in text if not c.isdigit())


def synthea_person(resource: dict) -> dict:
    """The Synthea Patient as a registered record: demographics and its MRN."""
    names = [{k: (strip_digits(v) if isinstance(v, str) else [strip_digits(x) for x in v])
              for k, v in n.items() if k in ("use", "family", "given")}
             for n in resource.get("name", [])]
    address = [{k: v for k, v in a.items() if k in ("line", "city", "state", "postalCode")}
               for a in resource.get("address", [])]
    identifiers = [{"system": i["system"], "value": i["value"]}
                   for i in resource.get("identifier", []) if i.get("system") == SYNTHEA_MRN]
    person = {"resourceType": "Patient", "id": resource["id"], "identifier": identifiers,
              "name": names, "telecom": resource.get("telecom", []),
              "gender": resource["gender"], "birthDate": resource["birthDate"],
              "address": address}
    return person


class Builder:
    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.pairs: list[dict] = []
        self.serial = 0
        self.data = json.loads((HERE / "indian-people.json").read_text())

    def new_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial:04d}"

    def add(self, kind: str, label: str, source: str, patient: dict, candidate: dict) -> None:
        patient = copy.deepcopy(patient)
        patient["id"] = self.new_id("in")
        self.pairs.append({"id": f"{source}-{kind}-{len(self.pairs):04d}", "kind": kind,
                           "label": label, "source": source, "patient": patient,
                           "candidate": copy.deepcopy(candidate)})

    # --- people -------------------------------------------------------------------------

    def phone(self) -> str:
        return str(self.rng.choice("6789")) + "".join(str(self.rng.randrange(10))
                                                      for _ in range(9))

    def address(self) -> dict:
        city, district, state, pin = self.rng.choice(self.data["places"])
        line = f"H.No {self.rng.randrange(1, 300)}, {self.rng.choice(self.data['localities'])}"
        return {"line": [line], "city": city, "district": district, "state": state,
                "postalCode": pin, "country": "IN"}

    def birth_date(self, first: int, last: int) -> str:
        start = date(first, 1, 1)
        days = (min(date(last, 12, 31), TODAY) - start).days
        return (start + timedelta(days=self.rng.randrange(days))).isoformat()

    def indian_person(self, gender: str, born: tuple[int, int], family: str | None = None,
                      given: str | None = None) -> dict:
        rng = self.rng
        given = given or rng.choice(sorted(self.data[gender]))
        family = family or rng.choice(sorted(self.data["family"]))
        facility = rng.choice(["district-hospital", "phc-1", "phc-2", "chc"])
        identifiers = [{"system": f"https://example.org/fhir/sid/mrn/{facility}",
                        "value": f"{facility.upper()}-{rng.randrange(10**5, 10**6)}"}]
        if rng.random() < 0.7:
            identifiers.insert(0, {"system": HEALTH_ID.system,
                                   "value": issue_health_id(HEALTH_ID, rng)})
        return {"resourceType": "Patient", "id": self.new_id("reg"), "identifier": identifiers,
                "name": [{"use": "official", "family": family, "given": [given]}],
                "telecom": [{"system": "phone", "value": self.phone(), "use": "mobile"}],
                "gender": gender, "birthDate": self.birth_date(*born),
                "address": [self.address()]}

    @staticmethod
    def with_mother(child: dict, mother: dict) -> dict:
        child = copy.deepcopy(child)
        child["contained"] = [{
            "resourceType": "RelatedPerson", "id": "mother", "patient": {"reference": "#"},
            "relationship": [{"coding": [{"system": ROLE_CODE, "code": "MTH"}]}],
            "identifier": copy.deepcopy(mother["identifier"]),
            "name": copy.deepcopy(mother["name"])}]
        return child

    # --- perturbations --------------------------------------------------------------------

    def variant(self, name: str, table: str) -> str:
        options = self.data[table].get(name)
        return self.rng.choice(options) if options else respell(self.rng, name)

    def swap_day_month(self, record: dict) -> bool:
        y, m, d = record["birthDate"].split("-")
        if int(d) > 12 or d == m:
            return False
        record["birthDate"] = f"{y}-{d}-{m}"
        return True

    def shift_year(self, record: dict) -> None:
        y, m, d = record["birthDate"].split("-")
        day = "28" if (m, d) == ("02", "29") else d
        record["birthDate"] = f"{int(y) + self.rng.choice([-1, 1])}-{m}-{day}"

    def reformat_phone(self, record: dict) -> None:
        for telecom in record.get("telecom", []):
            digits = "".join(c for c in telecom["value"] if c.isdigit())[-10:]
            telecom["value"] = self.rng.choice(
                [f"+91 {digits[:5]} {digits[5:]}", f"0{digits}", f"{digits[:5]}-{digits[5:]}",
                 f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"])

    # --- Synthea --------------------------------------------------------------------------

    def synthea(self) -> None:
        rng = self.rng
        people = [synthea_person(json.loads(line)) for line in
                  (HERE / "synthea-patients.ndjson").read_text().splitlines()]
        for person in people:
            official = person["name"][0]
            b = copy.deepcopy(person)
            b["identifier"] = []
            b["name"][0]["given"][0] = typo(rng, official["given"][0])
            self.add("typo-given", "match", "synthea", b, person)

            b = copy.deepcopy(person)
            b["name"] = [dict(b["name"][0], family=typo(rng, official["family"]))]
            self.add("typo-family", "match", "synthea", b, person)

            b = copy.deepcopy(person)
            b["identifier"] = []
            kind = "day-month-swap" if self.swap_day_month(b) else "year-off-by-one"
            if kind == "year-off-by-one":
                self.shift_year(b)
            self.add(kind, "match", "synthea", b, person)

            b = copy.deepcopy(person)
            b["identifier"] = [{"value": i["value"]} for i in person["identifier"]]
            self.reformat_phone(b)
            self.add("mrn-without-system", "match", "synthea", b, person)

            b = copy.deepcopy(person)
            b["identifier"], b["telecom"] = [], [{"system": "phone", "value": self.phone()}]
            b["address"] = [{"line": [f"{rng.randrange(1, 999)} Main Street"],
                             "city": "Worcester", "state": "Massachusetts",
                             "postalCode": "01608"}]
            self.add("moved-away", "match", "synthea", b, person)

            b = copy.deepcopy(person)
            b["identifier"] = []
            b["name"] = [{"family": official["family"], "given": [official["given"][0][0] + "."]}]
            self.add("initial-only", "match", "synthea", b, person)

            maiden = [n for n in person["name"] if n.get("use") == "maiden"]
            if maiden and maiden[0]["family"] != official["family"]:
                registered = dict(person, name=[official])
                b = copy.deepcopy(person)
                b["name"], b["identifier"] = [maiden[0]], []
                self.add("maiden-name", "match", "synthea", b, registered)

        self.synthea_non_matches(people)

    def synthea_non_matches(self, people: list[dict]) -> None:
        rng = self.rng
        for a in people:
            for b in people:
                if a["id"] < b["id"] and (a["birthDate"] == b["birthDate"]
                                          or a["name"][0]["family"] == b["name"][0]["family"]):
                    self.add("same-birth-date-or-family", "non-match", "synthea", a, b)
        for _ in range(60):
            a, b = rng.sample(people, 2)
            self.add("random", "non-match", "synthea", a, b)
        children = [p for p in people if p["birthDate"] >= "2005"]
        givens = {g: sorted({p["name"][0]["given"][0] for p in people if p["gender"] == g})
                  for g in ("male", "female")}
        for child in children:
            twin = copy.deepcopy(child)
            twin["name"][0]["given"] = [rng.choice(
                [g for g in givens[child["gender"]] if g != child["name"][0]["given"][0]])]
            twin["identifier"] = [{"system": SYNTHEA_MRN, "value": f"twin-{child['id']}"}]
            self.add("twin", "non-match", "synthea", twin, child)
            twin["identifier"] = []
            self.add("twin-without-identifier", "non-match", "synthea", twin, child)
        for mother in [p for p in people if p["gender"] == "female" and p["birthDate"] < "2000"]:
            born = date.fromisoformat(mother["birthDate"]) + timedelta(days=365 * 25)
            child = copy.deepcopy(mother)
            child.update(id=self.new_id("reg"), birthDate=min(born, TODAY).isoformat(),
                         identifier=[{"system": SYNTHEA_MRN, "value": f"child-{mother['id']}"}])
            child["name"] = [{"family": mother["name"][0]["family"],
                              "given": [rng.choice(givens["female"])]}]
            self.add("mother-child", "non-match", "synthea",
                     self.with_mother(child, mother), mother)

    # --- Indian people --------------------------------------------------------------------

    def indian(self) -> None:
        rng = self.rng
        adults = [self.indian_person(rng.choice(["female", "male"]), (1965, 2004))
                  for _ in range(45)]
        for person in adults:
            for kind in rng.sample(ADULT_PERTURBATIONS, 4):
                b = copy.deepcopy(person)
                getattr(self, "perturb_" + kind.replace("-", "_"))(b)
                self.add(kind, "match", "indian", b, person)
            b = copy.deepcopy(person)
            for kind in rng.sample(COMBINABLE, 2):
                getattr(self, "perturb_" + kind.replace("-", "_"))(b)
            self.add("two-changes", "match", "indian", b, person)
        self.families(adults)
        self.namesakes()
        for _ in range(40):
            a, b = rng.sample(adults, 2)
            self.add("random", "non-match", "indian", a, b)
        for _ in range(12):
            a, b = rng.sample(adults, 2)
            b = copy.deepcopy(b)
            b["birthDate"] = a["birthDate"]
            self.add("same-birth-date", "non-match", "indian", a, b)

    def perturb_transliteration(self, b: dict) -> None:
        name = b["name"][0]
        name["given"] = [self.variant(name["given"][0], b["gender"])]
        if self.rng.random() < 0.6:
            name["family"] = self.variant(name["family"], "family")
        b["identifier"] = []
        self.reformat_phone(b)

    def perturb_respelling(self, b: dict) -> None:
        name = b["name"][0]
        name["given"] = [respell(self.rng, name["given"][0])]
        name["family"] = respell(self.rng, name["family"])
        b["identifier"] = b["identifier"][-1:]

    def perturb_suffix(self, b: dict) -> None:
        name = b["name"][0]
        given = name["given"][0]
        if name["family"] in self.data["gujarati_families"]:
            name["given"] = [given + ("ben" if b["gender"] == "female" else "bhai")]
        else:
            name["given"] = [given, "Devi" if b["gender"] == "female" else "Kumar"]
        b["identifier"] = []

    def perturb_swapped_names(self, b: dict) -> None:
        name = b["name"][0]
        name["given"], name["family"] = [name["family"]], name["given"][0]
        b["identifier"] = []
        self.swap_day_month(b)

    def perturb_initial(self, b: dict) -> None:
        name = b["name"][0]
        b["name"] = [{"given": [name["family"][0] + ".", name["given"][0]]}]
        b["identifier"] = []

    def perturb_day_month_swap(self, b: dict) -> None:
        if not self.swap_day_month(b):
            self.shift_year(b)
        b["identifier"] = []

    def perturb_year_only(self, b: dict) -> None:
        b["birthDate"] = b["birthDate"][:4]
        b["name"][0]["given"] = [self.variant(b["name"][0]["given"][0], b["gender"])]
        b["identifier"] = []

    def perturb_estimated_age(self, b: dict) -> None:
        b["birthDate"] = f"{int(b['birthDate'][:4]) + self.rng.choice([-1, 0, 1])}-01-01"
        b["identifier"] = []

    def perturb_date_typo(self, b: dict) -> None:
        y, m, d = b["birthDate"].split("-")
        digit = str((int(d[1]) + self.rng.choice([1, 2, 3])) % 10)
        day = d[0] + digit
        b["birthDate"] = f"{y}-{m}-{day}" if 1 <= int(day) <= 28 else f"{y}-{m}-{d}"
        b["name"][0]["given"] = [typo(self.rng, b["name"][0]["given"][0])]
        b["identifier"] = []

    def perturb_health_id_compact(self, b: dict) -> None:
        for identifier in b["identifier"]:
            identifier["value"] = identifier["value"].replace("-", "")
        b["name"][0]["family"] = typo(self.rng, b["name"][0]["family"])
        b["telecom"], b["address"] = [], []

    def perturb_identifier_without_system(self, b: dict) -> None:
        b["identifier"] = [{"value": i["value"]} for i in b["identifier"][:1]]
        b["name"][0]["given"] = [self.variant(b["name"][0]["given"][0], b["gender"])]

    def perturb_no_contact(self, b: dict) -> None:
        b["telecom"], b["address"], b["identifier"] = [], [], []
        b["name"][0]["family"] = self.variant(b["name"][0]["family"], "family")

    def perturb_moved(self, b: dict) -> None:
        b["address"] = [self.address()]
        b["telecom"] = [{"system": "phone", "value": self.phone()}]
        b["identifier"] = []

    def families(self, adults: list[dict]) -> None:
        rng = self.rng
        mothers = [p for p in adults if p["gender"] == "female" and p["birthDate"] < "1998"]
        for mother in mothers:
            family = mother["name"][0]["family"]
            gender = rng.choice(["female", "male"])
            pair = rng.choice(self.data["twin_names"][gender])
            child = self.indian_person(gender, (2012, 2023), family=family, given=pair[0])
            child["telecom"] = copy.deepcopy(mother["telecom"])
            child["address"] = copy.deepcopy(mother["address"])
            child = self.with_mother(child, mother)
            self.add("mother-child", "non-match", "indian", child, mother)
            unlinked = copy.deepcopy(child)
            del unlinked["contained"]
            self.add("mother-child-unlinked", "non-match", "indian", unlinked, mother)

            twin = copy.deepcopy(child)
            twin["name"][0]["given"] = [pair[1]]
            twin["identifier"] = []
            if rng.random() < 0.4:
                twin["identifier"] = [{"system": HEALTH_ID.system,
                                       "value": issue_health_id(HEALTH_ID, rng)}]
            if rng.random() < 0.3:
                child = dict(child, multipleBirthInteger=1)
                twin["multipleBirthInteger"] = 2
            self.add("twin", "non-match", "indian", twin, child)

            newborn = copy.deepcopy(child)
            mother_given = mother["name"][0]["given"][0]
            newborn["name"] = [{"family": family, "given": [f"B/O {mother_given}"]}]
            newborn["identifier"] = []
            self.add("newborn-named-later", "match", "indian", newborn, child)

            sibling = copy.deepcopy(child)
            sibling["birthDate"] = self.birth_date(2005, 2011)
            sibling["name"][0]["given"] = [rng.choice(sorted(self.data[gender]))]
            sibling["identifier"] = []
            self.add("sibling", "non-match", "indian", sibling, child)
        husbands = [p for p in adults if p["gender"] == "male"]
        for husband in husbands[:15]:
            wife = self.indian_person("female", (int(husband["birthDate"][:4]) - 1,
                                                 int(husband["birthDate"][:4]) + 6),
                                      family=husband["name"][0]["family"])
            wife["telecom"] = copy.deepcopy(husband["telecom"])
            wife["address"] = copy.deepcopy(husband["address"])
            self.add("spouse", "non-match", "indian", wife, husband)

    def namesakes(self) -> None:
        rng = self.rng
        for _ in range(25):
            gender = rng.choice(["female", "male"])
            given = rng.choice(["Sunita", "Lakshmi", "Pooja", "Priya"] if gender == "female"
                               else ["Ravi", "Rajesh", "Amit", "Mohammed"])
            family = rng.choice(["Kumar", "Sharma", "Singh", "Khan", "Devi", "Patel"])
            a = self.indian_person(gender, (1975, 2000), family=family, given=given)
            b = self.indian_person(gender, (1975, 2000), family=family, given=given)
            if rng.random() < 0.5:
                b["birthDate"] = a["birthDate"][:4] + b["birthDate"][4:]
            self.add("namesake", "non-match", "indian", b, a)
        for _ in range(12):
            gender = rng.choice(["female", "male"])
            given = rng.choice(sorted(self.data[gender]))
            family = rng.choice(sorted(self.data["family"]))
            a = self.indian_person(gender, (1975, 2000), family=family, given=given)
            b = self.indian_person(gender, (1975, 2000), family=family, given=given)
            b["birthDate"] = a["birthDate"] = a["birthDate"][:4] + "-01-01"
            b["identifier"] = [i for i in b["identifier"] if i["system"] != HEALTH_ID.system]
            self.add("namesake-same-birth-date", "non-match", "indian", b, a)


ADULT_PERTURBATIONS = ["transliteration", "respelling", "suffix", "swapped-names", "initial",
                       "day-month-swap", "year-only", "estimated-age", "date-typo",
                       "health-id-compact", "identifier-without-system", "no-contact", "moved"]

COMBINABLE = ["transliteration", "respelling", "suffix", "day-month-swap", "estimated-age",
              "no-contact", "moved"]


def main(out: Path = HERE / "pairs.json") -> None:
    builder = Builder()
    builder.synthea()
    builder.indian()
    lines = ",\n".join(json.dumps(p, separators=(",", ":"), sort_keys=True)
                       for p in builder.pairs)
    about = ("Labelled Patient pairs for the $match evaluation, generated by make_pairs.py "
             f"(seed {SEED}); see SOURCES.md.")
    out.write_text(
        f'{{"about": {json.dumps(about)},\n"pairs": [\n{lines}\n]}}\n')
    labels = [p["label"] for p in builder.pairs]
    print(f"{len(labels)} pairs: {labels.count('match')} matches, "
          f"{labels.count('non-match')} non-matches")


if __name__ == "__main__":
    main()
