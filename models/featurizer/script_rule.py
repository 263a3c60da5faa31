"""Which texts tier 2 cannot read: the Python twin of core/src/detectors/model.rs's
`other_script_share` (standard library only, so benches can import it too).

Tier 2 reads Latin-script text: its n-gram models learn from a few rows in other scripts and do not
carry to scripts they never saw (models/heavy/crossval.json, `lang:` folds). A slot whose letters are
at least OTHER_SCRIPT_SHARE outside the Latin script is uncertain for the injection model whatever its
score below block_above (`other_scripts: uncertain`), so the cascade escalates it.
"""
OTHER_SCRIPT_SHARE = 0.5
LATIN = ((0x41, 0x5A), (0x61, 0x7A), (0xAA, 0xAA), (0xBA, 0xBA), (0xC0, 0x24F), (0x1D00, 0x1DBF),
         (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xAB30, 0xAB6F), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))


def other_script_share(text: str) -> float:
    """Share of the letters (str.isalpha) of `text` outside the Latin script; 0 without letters."""
    letters = other = 0
    for ch in text:
        if ch.isalpha():
            letters += 1
            o = ord(ch)
            other += not any(a <= o <= b for a, b in LATIN)
    return other / letters if letters else 0.0


def other_script(text: str) -> bool:
    """Is `text` mostly written in scripts tier 2 does not read?"""
    return other_script_share(text) >= OTHER_SCRIPT_SHARE
