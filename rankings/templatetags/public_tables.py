"""The body of a public table (``rankings/_table.html``), rendered in one pass.

django-tables2 works out a column's cell attributes again for every cell (``BoundColumn.attrs``)
and the template resolves them again for each: on a ranking page of 100 units and 16 columns
that was half of a page built on a cache miss. Here each column's attributes are worked out
once, then every row's cells are rendered by django-tables2 itself (``BoundRow.get_cell``:
the same render methods, links and escaping) and joined. Attributes that depend on the cell
(a callable) are still worked out per cell."""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()


def _varies(column) -> bool:
    attrs = dict(column._table.attrs)
    attrs.update(dict(column.column.attrs))
    td = attrs.get("td", attrs.get("cell", {}))
    return any(callable(value) for value in td.values())


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
    rows = []
    for row in table.paginated_rows:
        cells = []
        for column in columns:
            cell = conditional_escape(row.get_cell(column.name))
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
