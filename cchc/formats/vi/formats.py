# Dates as Vietnamese documents write them (28/02/2024, 09:00 28/02/2024); Django's own
# Vietnamese formats use dashes. Templates use SHORT_DATE_FORMAT and SHORT_DATETIME_FORMAT.
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i d/m/Y"
