#!/usr/bin/env python3
"""Build core/data/profanity.tsv: the shipped profanity word list with severities.

Source: `better-profanity` 0.7.0 on PyPI (MIT licence), file
better_profanity/profanity_wordlist.txt (916 entries). The wheel is fetched with pip from the
package registry; nothing else is downloaded.

Severity is ours:
- EXCLUDED: words that are ordinary vocabulary in most prompts (anatomy, medicine, drugs,
  violence, "god", "kill", "virgin", "foobar"...). Topic guards belong to other detectors.
- low: mild or context-dependent words ("damn", "crap", "stupid", "horny").
- high: slurs against protected groups.
- medium: everything else (explicit profanity and sexual vulgarity).
The default policy blocks `medium` and above.

Usage: python3 models/wordlists/build_profanity.py > core/data/profanity.tsv
"""
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

EXCLUDED = set("""
god kill murder napalm sniper uzi organ ovary ovum ovums uterus womb vagina penis penile penial
testis testes testicle testical teste testee scrotum rectum rectal rectus labia vulva pubic pubis
clitoris glans foreskin hymen menses menstruate menstruation tampon nipple nipples breasts
ejaculate ejaculated ejaculates ejaculating ejaculatings ejaculation semen sperm urine urinal
gonad gonads loin loins orally oral opiate opium heroin meth pcp peyote reefer valium viagra
vodka rum weed pot hemp ganja hookah hooch hootch toke stoned scag skag souse soused junkie junky
hiv herpes herp herpy pms foobar fubar fat gay gays lesbians transsexual virgin nude nudes naked
erotic erotism sexual sex seduce lust lusting lusty kinky racy steamy raunch scantily tawdry
thrust stroke strip revue sandbar seaman seamen master pawn paddy organ playboy massa reich klan
kkk hitler nazi nazism drunk dummy dopey doofus ninny nimrod prig prude moron stupid ugly weirdo
tramp trashy thug punky pinko lech leper vixen wench hussy floozy sleaze sleazy smut smutty
vulgar x-rated2g1c xxx xx LEN aSanchez kinkyJesus howtokill howtomurdep screw screwed screwing
suck sucked sucking knob nob wad wang woody willy willies wazoo weenie weewee whiz tinkle potty
pee peepee poop toots tush rump teat teets teez undies pantie panties panty maxi mams flange
facial fingering fisting fisted bondage bdsm sadism sadist masochist voyeur perversion orgy orgies
quicky three some threesome strip club stripclub slave molest rape raped raper raping rapist
pedo pedophile pedophilia pedophiliac snuff sodom penetrate penetration enlargement erect erection
horniest horny hump humped humping hooker prostitute pimp gigolo bimbo bimbos booty call busty
omg lmao lmfao wtf stfu gtfo foad gfy hell crap damn god-dam god-damned godamn godamnit goddam
goddammit goddamn goddamned jerk jerked inbred incest crotch dink dinks dong fart fanny nad nads
gringo guido hebe heeb kraut ruski moolie schizo spac sissy snatch muff bull shit cow girl cow
girls cowgirl cowgirls dog style doggin dogging lube pastie pasty pecker prick pricks pussy puss
queer queers gai gae gey ghey ghay homo homey homoey heshe hoar hoare hore hoer whoar hooter
hooters honky whitey wigger slope nappy negro polack pollock paki jap japs injun spic spick spik
spiks coon wop wetback kike kikes kyke chink gook gooks dyke dykes fag fags faggot fagot
vomit len lust kinky
""".lower().split())

# Mild words: reported only when a guard asks for severity `low`.
LOW = set("""
hell crap damn goddamn goddammit goddamned godamn godamnit goddam god-dam god-damned jerk jerked
stupid moron dummy horny lmao lmfao wtf stfu gtfo foad gfy omg fart pissed piss-off pissoff pee
peepee poop turd terd tosser bugger bloody sod prick pricks pecker wanky weiner
suck sucked sucking screw screwed screwing knob nob willy willies boob boobs booty booty call
dick dickhead douche douchebag douchebags douchey douch3 jackass dumass dumbass dumbasses
arse asses bastard bimbo bimbos hussy slut sluts skank tramp whore whores hooker pimp
homo queer queers dyke dykes pussy puss snatch muff
""".lower().split())

HIGH = set("""
chink coon fag fagg fagged fagging faggit faggitt faggot faggs fagot fagots fags faig faigt gook
gooks kike kikes kyke n1g n1gg n1gga n1gger nig nigg nigg3r nigg4h nigga niggah niggas niggaz
nigger niggers niglet spic spick spik spiks wetback wop polack paki jap japs injun retard
retarded reetard ritard rtard r-tard tard beaner towelhead raghead tranny shemale she male
dyke dykes lesbo lesbos lez lezbo lezbos lezzie lezzies lezzy lezbian lezbians honky whitey
wigger slope nappy negro moolie kraut hebe heeb
""".split())

# Words that are slurs even though they also appear in EXCLUDED for their other senses stay out:
# the shipped default must not fire on "negro" in "Rio Negro", so slurs with ordinary senses are
# kept only when they are unambiguous.
AMBIGUOUS_SLURS = set("jap japs slope nappy negro honky whitey hebe kraut paki polack wop coon".split())


# Stems so unambiguous that they are profane inside any word ("fucktard", "pigfukker",
# "shitass"); the detector matches them anywhere and reports the whole word. Stems with innocent
# carriers ("cunt" in Scunthorpe, "cock" in cocktail, "nigg" in snigger, "dick" in Dickens) are
# deliberately not here.
STEMS = {
    "fuck": "medium", "fuk": "medium", "fukk": "medium", "phuck": "medium", "phuk": "medium",
    "motherf": "medium", "muthaf": "medium", "shit": "medium", "bitch": "medium",
    "asshole": "medium", "dickhead": "medium", "whore": "medium", "slut": "medium",
    "jizz": "medium", "wank": "medium", "twat": "medium",
    "faggot": "high", "fagot": "high",
}


def fetch_wordlist() -> str:
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "better-profanity==0.7.0", "-d", d],
            check=True,
        )
        wheel = next(Path(d).glob("better_profanity-0.7.0-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            return z.read("better_profanity/profanity_wordlist.txt").decode("utf-8")


def main() -> None:
    words = sorted({w.strip() for w in fetch_wordlist().splitlines() if w.strip()})
    out = io.StringIO()
    out.write("# Parapet profanity list. Source: better-profanity 0.7.0 (PyPI, MIT licence),\n")
    out.write("# profanity_wordlist.txt; severities and exclusions by models/wordlists/build_profanity.py.\n")
    out.write("# term<TAB>severity (low | medium | high)[<TAB>stem: also matches inside words]\n")
    kept = 0
    for w in words:
        lw = w.lower()
        if lw in HIGH and lw not in AMBIGUOUS_SLURS:
            sev = "high"
        elif lw in LOW:
            sev = "low"
        elif lw in EXCLUDED:
            continue
        else:
            sev = "medium"
        out.write(f"{lw}\t{sev}\n")
        kept += 1
    # Slurs missing from the source list.
    for w in ["beaner", "towelhead", "raghead", "tranny", "kike", "retard"]:
        if w not in {x.lower() for x in words}:
            out.write(f"{w}\thigh\n")
    for stem, sev in sorted(STEMS.items()):
        out.write(f"{stem}\t{sev}\tstem\n")
    sys.stdout.write(out.getvalue())
    print(f"kept {kept} of {len(words)} source entries", file=sys.stderr)


if __name__ == "__main__":
    main()
