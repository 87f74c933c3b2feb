"""Long lists of the public pages rendered in one pass: the body of a public table
(``rankings/_table.html``), the options of a unit picker and the list of units.

django-tables2 works out a column's cell attributes again for every cell (``BoundColumn.attrs``)
and the template resolves them again for each: on a ranking page of 100 units and 16 columns
that was half of a page built on a cache miss. Here each column's attributes are worked out
once, then every row's cells are rendered by django-tables2 itself (``BoundRow.get_cell``:
the same render methods, links and escaping) and joined. Attributes that depend on the cell
(a callable) are still worked out per cell."""

import inspect

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from rankings.markup import escaped
from rankings.tables import decimal_text
from rankings.templatetags.readable import vi, vi_lang

register = template.Library()


def _varies(column) -> bool:
    attrs = dict(column._table.attrs)
    attrs.update(dict(column.column.attrs))
    td = attrs.get("td", attrs.get("cell", {}))
    return any(callable(value) for value in td.values())


def _cell_maker(column, table):
    """A function of a row making the cell ``row.get_cell(name)`` would make, without
    django-tables2's general machinery, which works out for every cell the record's model
    field (for its choices) and the render method's signature (``inspect.signature``): on a
    national ranking page built on a miss (another sort), 1,600 cells took two thirds of the
    build. Only for a column read from one attribute of the record whose render method takes
    the value and the record at most; None for any other (``get_cell`` then)."""
    accessor = str(column.accessor)
    if "." in accessor or callable(column.default):
        return None
    render = column.render  # the table's render_<name>, else the column's own
    try:
        wanted = set(inspect.signature(render).parameters)
    except (TypeError, ValueError):
        return None
    if not wanted <= {"value", "record"}:
        return None
    model = table.data.model  # a model field with choices is shown by get_FOO_display
    if model is not None:
        try:
            if model._meta.get_field(accessor).choices:
                return None
        except FieldDoesNotExist:
            pass
    bound, default, link = column.column, column.default, column.link
    empty = bound.empty_values

    def make(row):
        record = row.record
        value = getattr(record, accessor)
        if value in empty:
            return default
        arguments = {"value": value, "record": record}
        content = render(**{name: arguments[name] for name in wanted})
        if link:
            content = link(
                content,
                value=value,
                record=record,
                column=bound,
                bound_column=column,
                bound_row=row,
                table=table,
            )
        return content

    return make


@register.simple_tag
def table_body(table):
    """Every row of the table's current page as ``<tr>`` elements: the unit's cell a row
    header (``<th scope="row">``), the others ``<td>``; the empty text when there is no row."""
    columns = list(table.columns)
    if not columns:
        return ""

    def opening(column, attrs) -> str:
        if column.name == "unit_name":
            return f'<th scope="row" {attrs}>'
        return f"<td {attrs}>"

    fixed = {
        column.name: None if _varies(column) else opening(column, column.attrs["td"].as_html())
        for column in columns
    }
    makers = {column.name: _cell_maker(column, table) for column in columns}
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column in columns:
            make = makers[column.name]
            cell = escaped(make(row) if make else row.get_cell(column.name))
            start = fixed[column.name]
            if start is None:
                column.current_value, column.current_record = cell, row.record
                start = opening(column, column.attrs["td"].as_html())
            cells.append(f"{start}{cell}</{start[1:3]}>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    if not rows:
        return format_html(
            '<tr><td colspan="{}">{}</td></tr>', len(columns), table.empty_text or ""
        )
    return mark_safe("\n".join(rows))  # every part escaped above


@register.simple_tag
def unit_options(options: str, chosen: str = ""):
    """A unit picker's ``<option>`` elements (``explore.picker_options``: made once per
    publication and language, escaped there) with the ``chosen`` unit selected. A unit code is
    letters, digits, "-" and "_" (the importers' rule), so ``value="code"`` names one option."""
    if chosen:
        marker = f'<option value="{escape(chosen)}"'
        options = options.replace(marker, f"{marker} selected", 1)
    return mark_safe(options)  # every value escaped by picker_options


def unit_rows(items) -> list[str]:
    """The rows of the list of units (``rankings/units.html``, through ``explore.unit_list``),
    one ``<tr>`` string per unit: its name linked to its page, its latest index, band and rank
    linked to that ranking. The whole list of a national installation is 3,300 rows, with the
    texts and links that repeat (a publication's) made once. Every value is escaped here."""
    lang = vi_lang()
    unit_address = reverse("rankings:unit", args=["0"])[: -len("0/")]
    by_publication = {}
    rows = []
    for item in items:
        r, p = item["result"], item["publication"]
        made = by_publication.get(p.pk)
        if made is None:
            title = _("Ranking of %(group)s, %(year)s") % {"group": p.group_name, "year": p.year}
            made = (
                f'<a href="{escaped(reverse("rankings:ranking", args=[p.year, p.group_code]))}" '
                f'title="{escaped(title)}">',
                p.unit_count,
                f'<span class="self">{escaped(p.year)}</span>',
            )
            by_publication[p.pk] = made
        link, total, year = made
        rank = _("%(rank)s of %(total)s") % {"rank": r.rank, "total": total}
        rows.append(
            f'<tr><th scope="row"><a href="{unit_address}{escaped(r.unit_code)}/">'
            f"{escaped(vi(r.unit_name))}</a></th>"
            f'<td class="num">{decimal_text(r.index)}</td>'
            f'<td><span class="badge band-{escaped(r.band_code or "none")}"{lang}>'
            f"{escaped(r.band_label)}</span></td>"
            f'<td class="num">{link}{escaped(rank)}</a>{year}</td></tr>'
        )
    return rows


@register.simple_tag
def leaf_rows(leaves):
    """The rows of a unit page's table of criteria (``rankings/unit.html``): per leaf its code
    and title (with its kind unless self-assessed, and a target leaf's figure against its
    target), maximum, self score, final score (▼ when below the self score) and the council's
    note. Ninety rows a year: rendered here in one pass, as the template did cell by cell,
    every value escaped. ``leaves``: ``{"leaf": PublishedLeaf, "criterion": PublishedCriterion
    or None}``."""
    from scoring.templatetags.cchc_tags import figure, kind_label, target_line

    lang = vi_lang()
    not_applicable = escape(_("not applicable"))
    reported = escape(_("reported"))
    rows = []
    for item in leaves:
        leaf, c = item["leaf"], item["criterion"]
        kind = c.kind if c is not None else ""
        title = escaped(vi(c.title if c is not None else ""))
        head = f"{escaped(leaf.code)}. {title}"
        if kind and kind != "self":
            head += f' <span class="note">({escaped(str(kind_label(kind)).lower())})</span>'
        if kind == "target" and not leaf.not_applicable:
            line = escaped(target_line(leaf.figure, c, leaf.final_score, c.max_points))
            if leaf.self_figure is not None and leaf.self_figure != leaf.figure:
                line += f" · {reported} {escaped(figure(leaf.self_figure, c))}"
            head += f'<div class="note figure">{line}</div>'
        final = not_applicable if leaf.not_applicable else decimal_text(leaf.final_score)
        if (
            leaf.final_score is not None
            and leaf.self_score is not None
            and leaf.final_score < leaf.self_score
        ):
            final += ' <span class="change down">▼</span>'
        rows.append(
            f'<tr>\n    <th scope="row">{head}</th>\n'
            f'    <td class="num">{decimal_text(c.max_points) if c is not None else ""}</td>\n'
            f'    <td class="num">{decimal_text(leaf.self_score)}</td>\n'
            f'    <td class="num">{final}</td>\n'
            f"    <td{lang}>{escaped(leaf.note)}</td>\n  </tr>"
        )
    return mark_safe("".join(rows))  # every value escaped above
