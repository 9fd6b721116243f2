/// The PostgreSQL schema as versioned SQL migrations: the same tables and columns as `SQLiteSchema`, with BIGSERIAL,
/// BIGINT, BYTEA and TEXT. Dates are epoch milliseconds. A shipped migration is frozen: change the schema by adding one.
///
/// Each migration is a list of statements because the extended query protocol runs one statement per query.
enum PostgresSchema {
    static let migrations: [(version: Int, name: String, statements: [String])] = [
        (1, "event log, inbox, jobs, workflows, inventory", [
            """
            CREATE TABLE events (
                position BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                stream TEXT NOT NULL,
                stream_version BIGINT NOT NULL,
                type TEXT NOT NULL,
                schema_version BIGINT NOT NULL,
                correlation_id TEXT NOT NULL,
                causation_id TEXT,
                occurred_at BIGINT NOT NULL,
                recorded_at BIGINT NOT NULL,
                source TEXT NOT NULL,
                payload BYTEA NOT NULL,
                UNIQUE (stream, stream_version)
            )
            """,
            "CREATE INDEX events_correlation ON events (correlation_id, position)",
            """
            CREATE TABLE inbox (
                source TEXT NOT NULL,
                message_key TEXT NOT NULL,
                received_at BIGINT NOT NULL,
                PRIMARY KEY (source, message_key)
            )
            """,
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                payload BYTEA NOT NULL,
                partition_key TEXT,
                unique_key TEXT UNIQUE,
                state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'dead')),
                attempts BIGINT NOT NULL DEFAULT 0,
                max_attempts BIGINT NOT NULL,
                run_at BIGINT NOT NULL,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                last_error TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX jobs_due ON jobs (state, run_at)",
            """
            CREATE TABLE workflow_runs (
                id TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                state TEXT NOT NULL,
                correlation_id TEXT NOT NULL,
                input BYTEA NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE workflow_steps (
                run_id TEXT NOT NULL REFERENCES workflow_runs (id),
                step_index BIGINT NOT NULL,
                name TEXT NOT NULL,
                status TEXT NOT NULL,
                output BYTEA NOT NULL,
                recorded_at BIGINT NOT NULL,
                PRIMARY KEY (run_id, step_index)
            )
            """,
            """
            CREATE TABLE inventory_positions (
                sku TEXT NOT NULL,
                location TEXT NOT NULL,
                on_hand BIGINT NOT NULL,
                reserved BIGINT NOT NULL,
                safety_stock BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (sku, location)
            )
            """,
            """
            CREATE TABLE inventory_ledger (
                sequence BIGSERIAL PRIMARY KEY,
                sku TEXT NOT NULL,
                location TEXT NOT NULL,
                delta BIGINT NOT NULL,
                reason TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                recorded_at BIGINT NOT NULL,
                source TEXT NOT NULL,
                source_key TEXT NOT NULL,
                UNIQUE (source, source_key)
            )
            """,
            "CREATE INDEX inventory_ledger_position_time ON inventory_ledger (sku, location, occurred_at)",
            """
            CREATE TABLE reservations (
                id TEXT PRIMARY KEY,
                order_id TEXT NOT NULL,
                sku TEXT NOT NULL,
                location TEXT NOT NULL,
                quantity BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                state TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX reservations_active ON reservations (sku, location) WHERE state = 'active'",
        ]),
        (2, "subscription checkpoints", [
            """
            CREATE TABLE subscription_checkpoints (
                subscriber TEXT PRIMARY KEY,
                position BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]),
        (3, "job order per partition key", [
            "ALTER TABLE jobs ADD COLUMN seq BIGSERIAL",
            "CREATE INDEX jobs_partition ON jobs (partition_key, seq) WHERE partition_key IS NOT NULL",
        ]),
        (4, "dead-letter replay audit", [
            """
            CREATE TABLE job_replays (
                sequence BIGSERIAL PRIMARY KEY,
                job_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                replayed_by TEXT NOT NULL,
                replayed_at BIGINT NOT NULL,
                reason TEXT NOT NULL,
                previous_error TEXT
            )
            """,
            "CREATE INDEX job_replays_job ON job_replays (job_id, sequence)",
        ]),
        (5, "workflow versions and timers; why a job waits; one active instance per subscriber", [
            "ALTER TABLE jobs ADD COLUMN wait_reason TEXT",
            "CREATE TABLE subscription_leases (subscriber TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at BIGINT NOT NULL)",
            "ALTER TABLE workflow_runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE workflow_runs ADD COLUMN wait_step INTEGER",
            "ALTER TABLE workflow_runs ADD COLUMN wait_until BIGINT",
            "ALTER TABLE workflow_runs ADD COLUMN wait_event TEXT",
            "CREATE INDEX workflow_runs_waiting ON workflow_runs (correlation_id, wait_event) WHERE wait_event IS NOT NULL",
            "CREATE INDEX workflow_runs_state ON workflow_runs (state, created_at)",
        ]),
        (6, "API keys, the audit log, idempotency keys; job claims in index order", [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                client TEXT NOT NULL,
                scopes TEXT NOT NULL,
                locations TEXT,
                secret_hash TEXT NOT NULL,
                rate_per_second DOUBLE PRECISION,
                burst INTEGER,
                created_at BIGINT NOT NULL,
                expires_at BIGINT,
                revoked_at BIGINT
            )
            """,
            """
            CREATE TABLE audit_log (
                sequence BIGSERIAL PRIMARY KEY,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT,
                request_id TEXT,
                outcome TEXT NOT NULL,
                detail TEXT
            )
            """,
            """
            CREATE TABLE idempotency_keys (
                client TEXT NOT NULL,
                key TEXT NOT NULL,
                request_hash TEXT NOT NULL,
                status INTEGER,
                content_type TEXT,
                body BYTEA,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (client, key)
            )
            """,
            "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
            // Claims order by (run_at, created_at): with created_at in the index a claim reads one entry instead of
            // sorting every due job (measured: 6.6 ms → 0.85 ms per claim with 6,000 queued).
            "DROP INDEX jobs_due",
            "CREATE INDEX jobs_due ON jobs (state, run_at, created_at)",
        ]),
        (7, "locations and products", [
            "CREATE TABLE locations (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, updated_at BIGINT NOT NULL)",
            "CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT NOT NULL, allow_backorder BOOLEAN NOT NULL, updated_at BIGINT NOT NULL)",
        ]),
        (8, "transfers in transit", [
            "ALTER TABLE inventory_ledger ADD COLUMN transfer_id TEXT",
            "ALTER TABLE inventory_ledger ADD COLUMN transfer_destination TEXT",
            """
            CREATE TABLE transfers (
                id TEXT NOT NULL,
                sku TEXT NOT NULL,
                origin TEXT,
                destination TEXT NOT NULL,
                shipped BIGINT NOT NULL,
                received BIGINT NOT NULL,
                PRIMARY KEY (id, sku)
            )
            """,
            "CREATE INDEX transfers_destination ON transfers (sku, destination)",
        ]),
        (9, "jobs that coalesce while pending", [
            "ALTER TABLE jobs ADD COLUMN coalesce_key TEXT",
            "CREATE INDEX jobs_coalesce ON jobs (coalesce_key, state) WHERE coalesce_key IS NOT NULL",
        ]),
        (10, "order status projection", [
            """
            CREATE TABLE orders (
                id TEXT PRIMARY KEY,
                channel TEXT NOT NULL,
                channel_order_id TEXT NOT NULL,
                status TEXT NOT NULL,
                mode TEXT NOT NULL,
                pickup_store TEXT,
                pickup_by BIGINT,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX orders_pickups ON orders (pickup_store, status) WHERE pickup_store IS NOT NULL",
            "CREATE INDEX orders_status ON orders (status)",
        ]),
        (11, "orders found by number and by customer", [
            "ALTER TABLE orders ADD COLUMN customer_email TEXT",
            "CREATE INDEX orders_customer ON orders (customer_email) WHERE customer_email IS NOT NULL",
            "CREATE INDEX orders_number ON orders (channel_order_id)",
        ]),
        (12, "finance projection", [
            """
            CREATE TABLE journal (
                id TEXT PRIMARY KEY,
                seq BIGSERIAL,
                kind TEXT NOT NULL,
                location TEXT,
                channel TEXT,
                business_day TEXT NOT NULL,
                currency TEXT NOT NULL,
                total BIGINT NOT NULL,
                recorded_at BIGINT NOT NULL,
                daily BOOLEAN NOT NULL,
                summary TEXT,
                document TEXT,
                posted_at BIGINT
            )
            """,
            "CREATE INDEX journal_day ON journal (location, business_day)",
            "CREATE INDEX journal_unposted ON journal (recorded_at) WHERE document IS NULL",
        ]),
        (13, "price lists and promotions", [
            """
            CREATE TABLE prices (
                sku TEXT NOT NULL,
                channel TEXT NOT NULL,
                country TEXT NOT NULL,
                version BIGINT NOT NULL,
                price BIGINT NOT NULL,
                currency TEXT NOT NULL,
                valid_from BIGINT NOT NULL,
                valid_until BIGINT,
                PRIMARY KEY (channel, country, sku, version)
            )
            """,
            """
            CREATE TABLE promotions (
                id TEXT PRIMARY KEY,
                body TEXT NOT NULL,
                valid_from BIGINT NOT NULL,
                valid_until BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX promotions_window ON promotions (valid_until, valid_from)",
        ]),
        (14, "product categories", [
            "ALTER TABLE products ADD COLUMN categories TEXT NOT NULL DEFAULT ''",
        ]),
        (15, "jobs carry their trace; orders by status and age", [
            "ALTER TABLE jobs ADD COLUMN trace_parent TEXT",
            // The operations monitor's per-status count, oldest change and aging, read from the index alone.
            "CREATE INDEX orders_status_age ON orders (status, updated_at)",
            "DROP INDEX orders_status",
        ]),
    ]
}
