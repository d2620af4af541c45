"""Who is who and who does what: the title index and the parsed event agent."""

from __future__ import annotations

from newswatch.detectors.actors import ActorIndex, neutralise_titles
from newswatch.detectors.frames import FrameReader
from newswatch.detectors.lexicon import PhraseSet
from newswatch.detectors.places import countries_in, country_of, is_country, nationality_in

LEADERS = PhraseSet.of(["president*", "prime minister*", "chancellor*", "king", "leader"])
VISIT_WORDS = PhraseSet.of(["visit*", "arriv*", "trip*", "talks", "meet"])


def test_a_bare_name_gets_the_title_it_was_introduced_with():
    text = (
        "French Prime Minister Jacques Chirac began a visit to Washington. "
        "U.S. Secretary of State George Shultz met him at the airport."
    )
    actors = ActorIndex.of(text)
    assert actors.expand("Chirac said the talks went well.") == (
        "Prime Minister Chirac said the talks went well."
    )
    assert actors.expand("Shultz left.") == "Secretary of State Shultz left."
    # already titled: left alone
    assert actors.expand("Prime Minister Jacques Chirac left.") == (
        "Prime Minister Jacques Chirac left."
    )
    assert actors.expand("CHIRAC TO VISIT MOSCOW").startswith("Prime Minister CHIRAC")


def test_mr_name_is_replaced_by_the_title_and_pronouns_by_the_lead_actor():
    actors = ActorIndex.of("President Alan Garcia of Peru ended a visit to Mexico.")
    assert actors.expand("Mr Garcia flew home.") == "President Garcia flew home."
    assert actors.expand("He flew home.") == "President Garcia flew home."


def test_heads_of_organisations_parties_and_deputies_are_not_heads_of_state():
    assert "president" not in neutralise_titles("World Bank President Barber Conable flew in")
    assert "president" not in neutralise_titles("IBC president Jorio Dauster will attend")
    assert "president" not in neutralise_titles("the president of the Coffee Institute met")
    assert "leader" not in neutralise_titles("Labour leader Tony Blair toured Kent")
    assert "president" not in neutralise_titles("Vice President George Bush will visit")
    assert "President" not in neutralise_titles("Former U.S. President Barack Obama will visit")
    # ...but a country's or a bloc's leaders stay leaders
    assert "U.S. President Reagan" in neutralise_titles("U.S. President Reagan arrived")
    assert "EU leaders" in neutralise_titles("EU leaders met in Brussels")
    assert "European Union leaders" in neutralise_titles("European Union leaders met")


def test_british_chancellor_reads_as_finance_minister():
    uk = ActorIndex.of("Chancellor Gordon Brown left Britain for a tour of Africa.")
    assert "finance minister" in uk.expand("Mr Brown arrived in Kenya.")
    de = ActorIndex.of("German Chancellor Olaf Scholz flew to Brazil.")
    assert de.expand("Scholz arrived in Brasilia.") == "Chancellor Scholz arrived in Brasilia."


def _agents(sentence: str) -> list[tuple[str, str, bool]]:
    [frames] = FrameReader(VISIT_WORDS, LEADERS).frames([sentence])
    return [(f.trigger, f.agent, f.role) for f in frames]


def test_the_agent_of_a_visit_in_a_subordinate_clause_is_the_clause_subject():
    found = _agents(
        "The prime minister, on the first day of a three-day visit to the United States, "
        "said the accords were working."
    )
    assert ("visit", "The prime minister", True) in found


def test_a_minister_travelling_to_meet_a_president_is_not_a_leader_frame():
    found = _agents("Foreign Minister Hakan Fidan arrived in Cairo for talks with the president.")
    assert found and not any(role for trigger, _, role in found if trigger == "arrived")


def test_possessive_and_visiting_name_the_traveller():
    assert ("visit", "Carlsson", False) in _agents("Carlsson's visit to China boosted trade.")
    found = _agents("Nakasone held talks with the visiting Polish leader Jaruzelski.")
    assert any(t == "visiting" and role for t, _, role in found)


def test_pronoun_agents_stand_for_the_lead_actor():
    reader = FrameReader(VISIT_WORDS, LEADERS)
    [frames] = reader.frames(["She ended her trip to Moscow."], lead="Prime Minister Thatcher")
    assert any(f.role and f.agent == "Prime Minister Thatcher" for f in frames)


def test_a_trip_names_its_destination_only_when_it_is_a_place():
    reader = FrameReader(VISIT_WORDS, LEADERS)
    abroad, quake, wife = reader.frames(
        [
            "President Chavez, who is visiting China, said the deal was fair.",
            "The president said during a visit to the quake zone that aid was coming.",
            "President Reagan left the White House to visit his wife Nancy in hospital.",
        ]
    )
    assert [f.place for f in abroad if f.trigger == "visiting"] == ["China"]
    assert not any(f.place for f in quake + wife)
    # wire copy's "here" is the dateline's place, for the verb and for "began a visit"
    began, arrived = reader.frames(
        ["President Weizsaecker began a four-day visit here.", "President Lula arrived here."]
    )
    assert [f.place for f in began + arrived] == ["here", "here"]


def test_a_trip_told_as_history_is_background():
    reader = FrameReader(VISIT_WORDS, LEADERS)
    [old], [now] = reader.frames(  # one trigger each
        [
            "Prime Minister Callaghan once visited Uganda in 1975 to plead for a life.",
            "Prime Minister Callaghan visits Uganda on Monday.",
        ]
    )
    assert old.background and old.place == "Uganda"
    assert now.place == "Uganda" and not now.background


def test_possessive_names_and_middle_initials_carry_their_titles():
    actors = ActorIndex.of(
        "Prime Minister Yasuhiro Nakasone will fly to Washington. He will meet "
        "President George W Bush."
    )
    assert actors.expand("Nakasone's main demand") == "Prime Minister Nakasone's main demand"
    assert actors.expand("Bush said no.") == "President Bush said no."
    # a name ends at its possessive: "Russia" is not Kim's name
    kim = ActorIndex.of("North Korea leader Kim Jong-un's Russia visit")
    assert kim.title_of("Jong-un") == "Leader" and kim.title_of("Russia") is None


def test_a_clause_after_a_place_is_not_an_appositive_title():
    actors = ActorIndex.of(
        "He flew from the United States, where he met President George Bush, to London."
    )
    assert actors.title_of("United") is None and actors.title_of("States") is None


def test_a_pronoun_stands_for_the_person_named_before_it_in_the_sentence():
    reader = FrameReader(VISIT_WORDS, LEADERS)
    [frames] = reader.frames(
        ["Officials said Prime Minister Nakasone's demand when he arrives would be clear."],
        lead="President Reagan",
    )
    assert [f.agent for f in frames if f.trigger == "arrives"] == ["Prime Minister Nakasone"]


def test_countries_are_told_from_cities():
    assert is_country("Argentina") and is_country("the U.S.") and is_country("the Soviet Union")
    assert not is_country("Philadelphia") and not is_country("Manchester")


def test_places_and_nationalities_name_their_country():
    assert [country_of(p) for p in ("Kharkiv", "Ohio", "Paris", "the U.S.")] == [
        "UA", "US", "FR", "US"
    ]  # fmt: skip
    assert country_of("Venice") is None  # Italy's and Florida's are alike in size: unknown
    assert nationality_in("West German President Weizsaecker") == "DE"
    assert nationality_in("Ukrainian President Zelensky") == "UA"
    assert nationality_in("President Reagan") is None


KNOWN = (
    "Russian President Vladimir Putin",
    "U.S. President Donald Trump",
    "Chinese President Xi Jinping (Xi)",
)


def test_a_title_starts_a_word():
    # "blocking President Trump" once made him a king: the "king" of "blocking"
    actors = ActorIndex.of("Police cleared protesters blocking President Donald Trump's motorcade.")
    assert actors.title_of("Trump") == "President"
    # ... and "Undersecretary" is a title of its own, not a "secretary" inside a word
    actors = ActorIndex.of("Undersecretary of State Michael Armacost will visit Tokyo.")
    assert actors.title_of("Armacost") == "Undersecretary of State"


def test_known_people_title_the_names_an_article_leaves_bare():
    actors = ActorIndex.of("Putin arrived in Pyongyang. He met Kim.", known=KNOWN)
    assert actors.expand("Putin arrived in Pyongyang.") == "President Putin arrived in Pyongyang."
    assert actors.lead == "President Putin" and actors.origin_of("Putin") == "Russian"
    assert ActorIndex.of("Xi landed in Moscow.", known=KNOWN).title_of("Xi") == "President"
    # the article's own introduction wins; "former" stays; a shared first name is not titled
    own = ActorIndex.of("Prime Minister Vladimir Putin flew to Paris.", known=KNOWN)
    assert own.title_of("Putin") == "Prime Minister"
    former = ActorIndex.of("Former President Donald Trump visited Aberdeen.", known=KNOWN)
    assert former.title_of("Trump") != "President"
    # the article titles him the same way: the known nationality is added
    same = ActorIndex.of("President Donald Trump arrived.", known=KNOWN)
    assert same.origin_of("Trump") == "U.S."
    tusk = ActorIndex.of("Donald Tusk met farmers.", known=KNOWN)
    assert tusk.expand("Donald Tusk met farmers.") == "Donald Tusk met farmers."


def test_every_country_a_text_names_is_found_cities_optional():
    said = "Goodison said in New York that sanctions against Japanese banks would hurt trade"
    assert countries_in(said) == {"US", "JP"}
    assert countries_in(said, cities=False) == {"JP"}  # where it was said is no party
    # a town counts after a place preposition only: Police is also a town in Poland
    assert countries_in("Police fired tear gas in Hamburg.") == {"DE"}
    assert countries_in("TOSHIBA COULD BE FIRST TO FEEL U.K. TRADE ANGER") == {"GB"}  # not "To"
    assert countries_in("the United States, West Germany and the Soviet Union") == {
        "US", "DE", "RU"
    }  # fmt: skip
    assert countries_in("Officials said talks would resume next week.") == set()


def test_the_introduction_remembers_where_someone_is_from():
    actors = ActorIndex.of("Ukrainian President Volodymyr Zelensky visited the front.")
    assert actors.origin_of("President Zelensky said") == "Ukrainian"
