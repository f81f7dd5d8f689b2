"""The shared translations from Python, as a phone app uses them: a Localizer renders
the same Fluent messages the CLI and the desktop app show, and set_language makes every
error's and event's reason speak the person's language, while the typed reasons stay
the same in every language."""

import huisclos
import pytest
from conftest import person, sync

FSI, PDI = "\u2068", "\u2069"


def arabic_letters(text):
    return any("\u0600" <= c <= "\u06ff" for c in text)


@pytest.fixture
def language():
    """Sets the reasons' language for one test, and English again after it."""
    yield huisclos.set_language
    huisclos.set_language("en")


def test_five_languages_with_their_plurals_and_direction():
    assert huisclos.available_languages() == ["en", "fr", "de", "ar", "pt"]
    arabic = huisclos.Localizer("ar_LB.UTF-8")
    assert arabic.language() == "ar" and arabic.is_right_to_left()
    assert arabic.native_name() == "العربية"
    assert not huisclos.Localizer("pt-BR").is_right_to_left()

    # Arabic has six plural forms: the words change with the count, not only the digits.
    def spaces(n):
        args = [huisclos.MessageArg.NUMBER("spaces", n), huisclos.MessageArg.NUMBER("outbox", 0)]
        return arabic.text("cli-sync-done", args).replace(str(n), "#")

    forms = {spaces(n) for n in (0, 1, 2, 3, 11, 100)}
    assert len(forms) == 6, forms
    # A name keeps its own direction inside an Arabic sentence.
    joined = arabic.text("event-joined", [huisclos.MessageArg.TEXT("space", "Case 207")])
    assert arabic_letters(joined) and FSI + "Case 207" + PDI in joined
    # An id no language has comes back as itself.
    assert arabic.text("no-such-message", []) == "no-such-message"
    with pytest.raises(huisclos.HuisClosError.Invalid):
        huisclos.Localizer("tlh")


def test_errors_speak_the_language_set_and_keep_their_typed_reason(tmp_path, relay, language):
    alice, _ = person(tmp_path, relay, "Alice", invitation=relay.first_invitation)
    bob, _ = person(tmp_path, relay, "Bob")
    space = alice.create_space("Urgent appeals", "", huisclos.Policy.CONFIDENTIAL, True)
    alice.space(space).members().invite(bob.contact_card(), huisclos.Role.READER)
    sync(alice)
    sync(bob)
    bob.space(space).accept_invitation()
    sync(bob)

    reasons = {}
    for tag in ["en", "fr", "ar"]:
        assert language(tag) == tag
        with pytest.raises(huisclos.HuisClosError.NotFound) as missing:
            alice.space("00" * 16).feed().post("hello")
        with pytest.raises(huisclos.HuisClosError.Forbidden) as refused:
            bob.space(space).feed().post("a reader writes")
        # The same typed reasons in every language ...
        assert missing.value.what == huisclos.Missing.SPACE
        assert refused.value.why.is_reader_writes()
        # ... and the text says them as the app's Localizer does.
        localizer = huisclos.Localizer(tag)
        assert localizer.missing(missing.value.what) in missing.value.reason
        assert localizer.refusal(refused.value.why) in refused.value.reason
        reasons[tag] = (missing.value.reason, refused.value.reason)
    assert len({r[1] for r in reasons.values()}) == 3, reasons
    assert arabic_letters(reasons["ar"][1]) and not arabic_letters(reasons["fr"][1])
    with pytest.raises(huisclos.HuisClosError.Invalid):
        language("xx")
    # Nothing was posted by the refused calls.
    assert bob.space(space).feed().items() == [] and alice.space(space).feed().items() == []
