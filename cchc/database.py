"""What every database connection of the application starts with."""


def without_jit(sender, connection, **kwargs) -> None:
    """PostgreSQL's JIT compiles any query whose estimated cost is high: a ranking page's
    table (a subquery per field) is estimated far above its real 5 ms, and compiling it took
    25 ms of every page built on a cache miss. JIT pays back only on long analytical queries,
    which this application does not run: off for its connections (a SET, not a startup option,
    so that a connection pooler in front of the server is no matter)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")
