"""PostgreSQL administration for tests, benches and the local stack: one statement on the admin database."""

import psycopg2


def admin(admin_url, sql):
    """Run one statement (CREATE/DROP DATABASE) on the admin database, outside a transaction."""
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()
