"""The words an award is written in: labels of the PDF and the criteria narratives.

Authored text (titles, descriptions, the organisation) comes from the programme in the
learner's language with its fallback chain. The few fixed phrases here exist in
English, French, Swedish, Italian and German; another language falls back to English
for these phrases only (names and authored titles still appear in their own script).
"""

from __future__ import annotations

from collections.abc import Mapping

from capacity_lti.awards.rules import AwardKind, DueAward, find_rule, scope_items
from capacity_lti.content.languages import base_language
from capacity_lti.content.model import Programme, pick

PHRASES: Mapping[str, Mapping[str, str]] = {
    "en": {
        AwardKind.DIPLOMA: "Diploma",
        AwardKind.PATH_CERTIFICATE: "Certificate",
        AwardKind.MODULE_CERTIFICATE: "Certificate of completion",
        "awarded_to": "awarded to",
        "programme": "Programme",
        "path": "Learning path",
        "points": "Points",
        "date": "Date",
        "issued_by": "Issued by",
        "verify": "Check that this document is genuine at",
        "all_path": "Completed every module and event of the learning path “{path}” in the programme “{programme}”.",
        "points_path": "Earned at least {min} points in the learning path “{path}” of the programme “{programme}”.",
        "all_programme": "Completed every module and event of the programme “{programme}”.",
        "points_programme": "Earned at least {min} of the {possible} points of the programme “{programme}”.",
        "module": "Completed the module “{module}” of the programme “{programme}”.",
        "module_check": "Completed the module “{module}” of the programme “{programme}” and passed its knowledge check.",
    },
    "fr": {
        AwardKind.DIPLOMA: "Diplôme",
        AwardKind.PATH_CERTIFICATE: "Attestation",
        AwardKind.MODULE_CERTIFICATE: "Attestation de réussite",
        "awarded_to": "décerné(e) à",
        "programme": "Programme",
        "path": "Parcours",
        "points": "Points",
        "date": "Date",
        "issued_by": "Délivré par",
        "verify": "Vérifiez l’authenticité de ce document sur",
        "all_path": "A terminé tous les modules et événements du parcours « {path} » du programme « {programme} ».",
        "points_path": "A obtenu au moins {min} points dans le parcours « {path} » du programme « {programme} ».",
        "all_programme": "A terminé tous les modules et événements du programme « {programme} ».",
        "points_programme": "A obtenu au moins {min} des {possible} points du programme « {programme} ».",
        "module": "A terminé le module « {module} » du programme « {programme} ».",
        "module_check": "A terminé le module « {module} » du programme « {programme} » et réussi son test de connaissances.",
    },
    "sv": {
        AwardKind.DIPLOMA: "Diplom",
        AwardKind.PATH_CERTIFICATE: "Intyg",
        AwardKind.MODULE_CERTIFICATE: "Intyg om genomförd modul",
        "awarded_to": "utfärdat till",
        "programme": "Program",
        "path": "Lärväg",
        "points": "Poäng",
        "date": "Datum",
        "issued_by": "Utfärdat av",
        "verify": "Kontrollera att dokumentet är äkta på",
        "all_path": "Har genomfört alla moduler och evenemang i lärvägen ”{path}” i programmet ”{programme}”.",
        "points_path": "Har fått minst {min} poäng i lärvägen ”{path}” i programmet ”{programme}”.",
        "all_programme": "Har genomfört alla moduler och evenemang i programmet ”{programme}”.",
        "points_programme": "Har fått minst {min} av programmets {possible} poäng i ”{programme}”.",
        "module": "Har genomfört modulen ”{module}” i programmet ”{programme}”.",
        "module_check": "Har genomfört modulen ”{module}” i programmet ”{programme}” och klarat dess kunskapstest.",
    },
    "it": {
        AwardKind.DIPLOMA: "Diploma",
        AwardKind.PATH_CERTIFICATE: "Attestato",
        AwardKind.MODULE_CERTIFICATE: "Attestato di completamento",
        "awarded_to": "conferito a",
        "programme": "Programma",
        "path": "Percorso",
        "points": "Punti",
        "date": "Data",
        "issued_by": "Rilasciato da",
        "verify": "Verifica l’autenticità di questo documento su",
        "all_path": "Ha completato tutti i moduli e gli eventi del percorso «{path}» del programma «{programme}».",
        "points_path": "Ha ottenuto almeno {min} punti nel percorso «{path}» del programma «{programme}».",
        "all_programme": "Ha completato tutti i moduli e gli eventi del programma «{programme}».",
        "points_programme": "Ha ottenuto almeno {min} dei {possible} punti del programma «{programme}».",
        "module": "Ha completato il modulo «{module}» del programma «{programme}».",
        "module_check": "Ha completato il modulo «{module}» del programma «{programme}» e superato la verifica delle conoscenze.",
    },
    "de": {
        AwardKind.DIPLOMA: "Diplom",
        AwardKind.PATH_CERTIFICATE: "Zertifikat",
        AwardKind.MODULE_CERTIFICATE: "Teilnahmebestätigung",
        "awarded_to": "verliehen an",
        "programme": "Programm",
        "path": "Lernpfad",
        "points": "Punkte",
        "date": "Datum",
        "issued_by": "Ausgestellt von",
        "verify": "Echtheit prüfen unter",
        "all_path": "Hat alle Module und Veranstaltungen des Lernpfads „{path}“ im Programm „{programme}“ abgeschlossen.",
        "points_path": "Hat mindestens {min} Punkte im Lernpfad „{path}“ des Programms „{programme}“ erreicht.",
        "all_programme": "Hat alle Module und Veranstaltungen des Programms „{programme}“ abgeschlossen.",
        "points_programme": "Hat mindestens {min} von {possible} Punkten des Programms „{programme}“ erreicht.",
        "module": "Hat das Modul „{module}“ des Programms „{programme}“ abgeschlossen.",
        "module_check": "Hat das Modul „{module}“ des Programms „{programme}“ abgeschlossen und die Wissensüberprüfung bestanden.",
    },
}


def phrases(language: str) -> Mapping[str, str]:
    """The fixed phrases for `language` (its base language, else English)."""
    return PHRASES.get(language) or PHRASES.get(base_language(language)) or PHRASES["en"]


def phrase_language(language: str) -> str:
    """The language the fixed phrases for `language` are actually in."""
    if language in PHRASES:
        return language
    return base_language(language) if base_language(language) in PHRASES else "en"


def award_title(programme: Programme, award: DueAward, language: str) -> str:
    """The award's name: the diploma rule's title, or the module's title."""
    chain = programme.chain(language)
    if award.module_id is not None:
        module = programme.modules.get(award.module_id)
        return pick(module.title, chain) if module is not None else award.key
    rule = find_rule(programme, award.rule_id or "")
    return pick(rule.title, chain) if rule is not None else award.key


def award_description(programme: Programme, award: DueAward, language: str) -> str:
    """What the award is about, from authored text; the narrative when there is none."""
    chain = programme.chain(language)
    if award.module_id is not None:
        module = programme.modules.get(award.module_id)
        text = pick(module.summary, chain) if module is not None else ""
    elif award.path_id is not None and any(p.id == award.path_id for p in programme.paths):
        text = pick(programme.path(award.path_id).description, chain)
    else:
        text = pick(programme.description, chain)
    return text or criteria_narrative(programme, award, language)


def criteria_narrative(programme: Programme, award: DueAward, language: str) -> str:
    """How the award is earned, in `language` (phrases fall back to English)."""
    chain = programme.chain(language)
    words = phrases(language)
    title = pick(programme.title, chain)
    if award.module_id is not None:
        module = programme.modules.get(award.module_id)
        if module is None:
            return ""
        template = words["module_check"] if module.check is not None else words["module"]
        return template.format(module=pick(module.title, chain), programme=title)
    rule = find_rule(programme, award.rule_id or "")
    if rule is None or (rule.path is not None and all(p.id != rule.path for p in programme.paths)):
        return ""
    path = pick(programme.path(rule.path).title, chain) if rule.path is not None else ""
    if rule.min_points > 0:
        possible = programme.points_possible(scope_items(programme, rule))
        template = words["points_path"] if rule.path else words["points_programme"]
        return template.format(min=rule.min_points, possible=possible, path=path, programme=title)
    template = words["all_path"] if rule.path else words["all_programme"]
    return template.format(path=path, programme=title)
