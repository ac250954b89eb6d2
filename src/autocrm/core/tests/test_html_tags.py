from django.template import engines

from autocrm.core.navigation import menu_url


def _render(source, **context):
    return engines["django"].from_string("{% load autocrm_html %}" + source).render(context)


def test_options_marks_the_chosen_code_and_escapes_labels():
    html = _render("{% options choices chosen %}", choices=[("a", "甲"), ("b", "<b>&乙"), (3, "三")], chosen="b")
    assert html == ('<option value="a">甲</option><option value="b" selected>&lt;b&gt;&amp;乙</option>'
                    '<option value="3">三</option>')  # fmt: skip


def test_options_compares_as_text_and_may_choose_nothing():
    assert 'value="3" selected' in _render("{% options choices 3 %}", choices=[("3", "三")])
    assert "selected" not in _render("{% options choices %}", choices=[("a", "甲"), ("", "—")])
    assert _render('{% options choices "x" %}', choices=[]) == ""


def test_menu_addresses_are_reversed_once_and_unknown_ones_stay_out():
    assert menu_url("home") == "/"
    assert menu_url("home") is menu_url("home")
    assert menu_url("no-such-page") is None
