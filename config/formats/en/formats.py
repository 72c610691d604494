"""English dates as the team reads them: ISO order, 24-hour clock (Django's own are US-style).

Templates name these formats (|date:"SHORT_DATETIME_FORMAT"), so each language writes
dates its own way; numbers follow Django's locale formats (1,234.5 / 1 234,5).
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
