"""The texts a package shows around the authored content, in each language we ship.

Authored text comes from the programme; these are the labels, headings and runtime messages.
A language we have no texts for falls back along the programme's chain, then to English.
"""

from __future__ import annotations

from collections.abc import Sequence

from capacity_lti.content.languages import base_language

RUNTIME_KEYS = ("no_lms", "saved", "passed", "failed", "completed", "certificate", "progress")

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "no_lms": "No learning platform was found: your progress is not saved.",
        "saved": "Progress saved.",
        "passed": "Passed: {correct} of {total} correct ({percent} %).",
        "failed": "Not passed yet: {correct} of {total} correct, {mastery} % needed. Try again.",
        "completed": "Module completed.",
        "path_completed": "Learning path completed.",
        "programme_completed": "Programme completed.",
        "certificate": "Print your certificate",
        "progress": "{seen} of {total} sections read",
        "check": "Knowledge check",
        "check_intro": "{mastery} % of the answers must be right to pass.",
        "submit": "Check my answers",
        "resources": "Resources",
        "minutes": "{minutes} min",
        "certificate_title": "Certificate of completion",
        "has_completed_module": "has completed the module",
        "has_completed_path": "has completed the learning path",
        "has_completed_programme": "has completed the programme",
        "date": "Date",
        "print_hint": "Print this page, or save it as a PDF, from your browser's print menu.",
        "event_note": "Attendance at this event is recorded by its organisers, not by this package.",
        "events": "Events",
        "beginner": "Beginner",
        "advanced": "Advanced",
        "webinar": "Webinar",
        "study-visit": "Study visit",
        "speed-networking": "Speed networking",
        "co-learning-workshop": "Co-learning workshop",
        "co-creation-workshop": "Co-creation workshop",
        "peer-review-workshop": "Peer-review workshop",
        "basics": "Basics",
        "basics/what": "What",
        "basics/why": "Why",
        "basics/key-information": "Key information",
        "key-questions": "Key questions",
        "recommended-steps": "Recommended steps",
        "processes": "Processes",
        "processes/people": "People",
        "processes/politics": "Politics",
        "processes/economics": "Economics",
        "guidance": "Guidance",
        "guidance/tools": "Tools",
        "guidance/policy-context": "Policy context",
        "guidance/tips": "Tips",
    },
    "sv": {
        "no_lms": "Ingen lärplattform hittades: dina framsteg sparas inte.",
        "saved": "Framstegen har sparats.",
        "passed": "Godkänt: {correct} av {total} rätt ({percent} %).",
        "failed": "Inte godkänt än: {correct} av {total} rätt, {mastery} % krävs. Försök igen.",
        "completed": "Modulen är klar.",
        "path_completed": "Lärvägen är klar.",
        "programme_completed": "Programmet är klart.",
        "certificate": "Skriv ut ditt intyg",
        "progress": "{seen} av {total} avsnitt lästa",
        "check": "Kunskapskontroll",
        "check_intro": "{mastery} % av svaren måste vara rätt för godkänt.",
        "submit": "Rätta mina svar",
        "resources": "Resurser",
        "minutes": "{minutes} min",
        "certificate_title": "Intyg om genomförd utbildning",
        "has_completed_module": "har genomfört modulen",
        "has_completed_path": "har genomfört lärvägen",
        "has_completed_programme": "har genomfört programmet",
        "date": "Datum",
        "print_hint": "Skriv ut sidan, eller spara den som PDF, via webbläsarens utskriftsmeny.",
        "event_note": "Närvaron vid detta evenemang registreras av arrangörerna, inte av det här paketet.",
        "events": "Evenemang",
        "beginner": "Nybörjare",
        "advanced": "Fördjupning",
        "webinar": "Webbinarium",
        "study-visit": "Studiebesök",
        "speed-networking": "Speed networking",
        "co-learning-workshop": "Workshop för kollegialt lärande",
        "co-creation-workshop": "Samskapande workshop",
        "peer-review-workshop": "Workshop med kollegial granskning",
        "basics": "Grunder",
        "basics/what": "Vad",
        "basics/why": "Varför",
        "basics/key-information": "Nyckelinformation",
        "key-questions": "Nyckelfrågor",
        "recommended-steps": "Rekommenderade steg",
        "processes": "Processer",
        "processes/people": "Människor",
        "processes/politics": "Politik",
        "processes/economics": "Ekonomi",
        "guidance": "Vägledning",
        "guidance/tools": "Verktyg",
        "guidance/policy-context": "Policysammanhang",
        "guidance/tips": "Tips",
    },
    "fr": {
        "no_lms": "Aucune plateforme de formation n'a été trouvée : votre progression n'est pas enregistrée.",
        "saved": "Progression enregistrée.",
        "passed": "Réussi : {correct} bonnes réponses sur {total} ({percent} %).",
        "failed": "Pas encore réussi : {correct} bonnes réponses sur {total}, {mastery} % requis. Réessayez.",
        "completed": "Module terminé.",
        "path_completed": "Parcours terminé.",
        "programme_completed": "Programme terminé.",
        "certificate": "Imprimer votre attestation",
        "progress": "{seen} sections lues sur {total}",
        "check": "Vérifiez vos connaissances",
        "check_intro": "Il faut {mastery} % de bonnes réponses pour réussir.",
        "submit": "Vérifier mes réponses",
        "resources": "Ressources",
        "minutes": "{minutes} min",
        "certificate_title": "Attestation de réussite",
        "has_completed_module": "a suivi avec succès le module",
        "has_completed_path": "a suivi avec succès le parcours",
        "has_completed_programme": "a suivi avec succès le programme",
        "date": "Date",
        "print_hint": "Imprimez cette page, ou enregistrez-la en PDF, depuis le menu d'impression du navigateur.",
        "event_note": "La présence à cet événement est enregistrée par ses organisateurs, pas par ce module.",
        "events": "Événements",
        "beginner": "Débutant",
        "advanced": "Avancé",
        "webinar": "Webinaire",
        "study-visit": "Visite d'étude",
        "speed-networking": "Speed networking",
        "co-learning-workshop": "Atelier d'apprentissage entre pairs",
        "co-creation-workshop": "Atelier de co-création",
        "peer-review-workshop": "Atelier de revue par les pairs",
        "basics": "Les bases",
        "basics/what": "Quoi",
        "basics/why": "Pourquoi",
        "basics/key-information": "Informations clés",
        "key-questions": "Questions clés",
        "recommended-steps": "Étapes recommandées",
        "processes": "Processus",
        "processes/people": "Les personnes",
        "processes/politics": "Le politique",
        "processes/economics": "L'économie",
        "guidance": "Conseils",
        "guidance/tools": "Outils",
        "guidance/policy-context": "Contexte politique",
        "guidance/tips": "Astuces",
    },
    "it": {
        "no_lms": "Nessuna piattaforma di apprendimento trovata: i tuoi progressi non vengono salvati.",
        "saved": "Progressi salvati.",
        "passed": "Superato: {correct} risposte corrette su {total} ({percent} %).",
        "failed": "Non ancora superato: {correct} risposte corrette su {total}, serve il {mastery} %. Riprova.",
        "completed": "Modulo completato.",
        "path_completed": "Percorso completato.",
        "programme_completed": "Programma completato.",
        "certificate": "Stampa il tuo attestato",
        "progress": "{seen} sezioni lette su {total}",
        "check": "Verifica delle conoscenze",
        "check_intro": "Per superare la verifica serve il {mastery} % di risposte corrette.",
        "submit": "Verifica le mie risposte",
        "resources": "Risorse",
        "minutes": "{minutes} min",
        "certificate_title": "Attestato di completamento",
        "has_completed_module": "ha completato il modulo",
        "has_completed_path": "ha completato il percorso",
        "has_completed_programme": "ha completato il programma",
        "date": "Data",
        "print_hint": "Stampa questa pagina, o salvala in PDF, dal menu di stampa del browser.",
        "event_note": "La partecipazione a questo evento è registrata dagli organizzatori, non da questo pacchetto.",
        "events": "Eventi",
        "beginner": "Base",
        "advanced": "Avanzato",
        "webinar": "Webinar",
        "study-visit": "Visita di studio",
        "speed-networking": "Speed networking",
        "co-learning-workshop": "Workshop di apprendimento condiviso",
        "co-creation-workshop": "Workshop di co-creazione",
        "peer-review-workshop": "Workshop di revisione tra pari",
        "basics": "Nozioni di base",
        "basics/what": "Che cosa",
        "basics/why": "Perché",
        "basics/key-information": "Informazioni chiave",
        "key-questions": "Domande chiave",
        "recommended-steps": "Passi consigliati",
        "processes": "Processi",
        "processes/people": "Persone",
        "processes/politics": "Politica",
        "processes/economics": "Economia",
        "guidance": "Orientamenti",
        "guidance/tools": "Strumenti",
        "guidance/policy-context": "Contesto politico",
        "guidance/tips": "Suggerimenti",
    },
}


class Labels:
    """The package texts for one fallback chain: `labels["submit"]`, `labels.lang("submit")`."""

    def __init__(self, chain: Sequence[str]) -> None:
        tried: list[str] = []
        for tag in (*chain, "en"):
            for candidate in (tag, base_language(tag)):
                if candidate in _TEXTS and candidate not in tried:
                    tried.append(candidate)
        self._texts: dict[str, tuple[str, str]] = {}
        for key in _TEXTS["en"]:
            language = next(t for t in tried if key in _TEXTS[t])
            self._texts[key] = (_TEXTS[language][key], language)

    def __getitem__(self, key: str) -> str:
        return self._texts[key][0]

    def lang(self, key: str) -> str:
        """The language the text for `key` is in (it differs from the package's on fallback)."""
        return self._texts[key][1]

    def runtime(self, scope: str = "module") -> dict[str, str]:
        """The `ui` object of the capacity-data block of a SCO for a module, path or programme."""
        texts = {key: self[key] for key in RUNTIME_KEYS}
        if scope != "module":
            texts["completed"] = self[f"{scope}_completed"]
        return texts
