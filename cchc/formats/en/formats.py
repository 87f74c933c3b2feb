# Unambiguous English dates (28 Feb 2024, 09:00, 28 Feb 2024): readers of the English pages
# may expect either day-first or month-first numbers.
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "H:i, j M Y"
