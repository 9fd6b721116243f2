/// The SQLite schema as versioned SQL migrations. A shipped migration is frozen: change the schema by adding one.
enum SQLiteSchema {
    static let migrations: [(version: Int, name: String, sql: String)] = [
        (1, "event log, inbox, jobs, workflows, inventory", """
        CREATE TABLE events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            stream TEXT NOT NULL,
            stream_version INTEGER NOT NULL,
            type TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            correlation_id TEXT NOT NULL,
            causation_id TEXT,
            occurred_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            payload BLOB NOT NULL,
            UNIQUE (stream, stream_version)
        );
        CREATE INDEX events_correlation ON events (correlation_id, position);
        CREATE TABLE inbox (
            source TEXT NOT NULL,
            message_key TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            PRIMARY KEY (source, message_key)
        ) WITHOUT ROWID;
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            payload BLOB NOT NULL,
            partition_key TEXT,
            unique_key TEXT UNIQUE,
            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            run_at INTEGER NOT NULL,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX jobs_due ON jobs (state, run_at);
        CREATE TABLE workflow_runs (
            id TEXT PRIMARY KEY,
            type TEXT NOT NULL,
            state TEXT NOT NULL,
            correlation_id TEXT NOT NULL,
            input BLOB NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE workflow_steps (
            run_id TEXT NOT NULL REFERENCES workflow_runs (id),
            step_index INTEGER NOT NULL,
            name TEXT NOT NULL,
            status TEXT NOT NULL,
            output BLOB NOT NULL,
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (run_id, step_index)
        );
        CREATE TABLE inventory_positions (
            sku TEXT NOT NULL,
            location TEXT NOT NULL,
            on_hand INTEGER NOT NULL,
            reserved INTEGER NOT NULL,
            safety_stock INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (sku, location)
        ) WITHOUT ROWID;
        CREATE TABLE inventory_ledger (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            sku TEXT NOT NULL,
            location TEXT NOT NULL,
            delta INTEGER NOT NULL,
            reason TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            source TEXT NOT NULL,
            source_key TEXT NOT NULL,
            UNIQUE (source, source_key)
        );
        CREATE INDEX inventory_ledger_position_time ON inventory_ledger (sku, location, occurred_at);
        CREATE TABLE reservations (
            id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL,
            sku TEXT NOT NULL,
            location TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX reservations_active ON reservations (sku, location) WHERE state = 'active';
        """),
        (2, "subscription checkpoints", """
        CREATE TABLE subscription_checkpoints (
            subscriber TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """),
        (3, "job order per partition key", """
        CREATE INDEX jobs_partition ON jobs (partition_key) WHERE partition_key IS NOT NULL;
        """),
        (4, "dead-letter replay audit", """
        CREATE TABLE job_replays (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            job_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            replayed_by TEXT NOT NULL,
            replayed_at INTEGER NOT NULL,
            reason TEXT NOT NULL,
            previous_error TEXT
        );
        CREATE INDEX job_replays_job ON job_replays (job_id, sequence);
        """),
        (5, "workflow versions and timers; why a job waits; one active instance per subscriber", """
        ALTER TABLE jobs ADD COLUMN wait_reason TEXT;
        CREATE TABLE subscription_leases (
            subscriber TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        ALTER TABLE workflow_runs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE workflow_runs ADD COLUMN wait_step INTEGER;
        ALTER TABLE workflow_runs ADD COLUMN wait_until INTEGER;
        ALTER TABLE workflow_runs ADD COLUMN wait_event TEXT;
        CREATE INDEX workflow_runs_waiting ON workflow_runs (correlation_id, wait_event) WHERE wait_event IS NOT NULL;
        CREATE INDEX workflow_runs_state ON workflow_runs (state, created_at);
        """),
        (6, "API keys, the audit log, idempotency keys", """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            client TEXT NOT NULL,
            scopes TEXT NOT NULL,
            locations TEXT,
            secret_hash TEXT NOT NULL,
            rate_per_second REAL,
            burst INTEGER,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            revoked_at INTEGER
        );
        CREATE TABLE audit_log (
            sequence INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            request_id TEXT,
            outcome TEXT NOT NULL,
            detail TEXT
        );
        CREATE TABLE idempotency_keys (
            client TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            status INTEGER,
            content_type TEXT,
            body BLOB,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (client, key)
        ) WITHOUT ROWID;
        CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
        """),
        (7, "locations and products", """
        CREATE TABLE locations (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE products (
            sku TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            allow_backorder INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """),
        (8, "transfers in transit", """
        ALTER TABLE inventory_ledger ADD COLUMN transfer_id TEXT;
        ALTER TABLE inventory_ledger ADD COLUMN transfer_destination TEXT;
        CREATE TABLE transfers (
            id TEXT NOT NULL,
            sku TEXT NOT NULL,
            origin TEXT,
            destination TEXT NOT NULL,
            shipped INTEGER NOT NULL,
            received INTEGER NOT NULL,
            PRIMARY KEY (id, sku)
        ) WITHOUT ROWID;
        CREATE INDEX transfers_destination ON transfers (sku, destination);
        """),
        (9, "jobs that coalesce while pending", """
        ALTER TABLE jobs ADD COLUMN coalesce_key TEXT;
        CREATE INDEX jobs_coalesce ON jobs (coalesce_key, state) WHERE coalesce_key IS NOT NULL;
        """),
        (10, "order status projection", """
        CREATE TABLE orders (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            channel_order_id TEXT NOT NULL,
            status TEXT NOT NULL,
            mode TEXT NOT NULL,
            pickup_store TEXT,
            pickup_by INTEGER,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX orders_pickups ON orders (pickup_store, status) WHERE pickup_store IS NOT NULL;
        CREATE INDEX orders_status ON orders (status);
        """),
        (11, "orders found by number and by customer", """
        ALTER TABLE orders ADD COLUMN customer_email TEXT;
        CREATE INDEX orders_customer ON orders (customer_email) WHERE customer_email IS NOT NULL;
        CREATE INDEX orders_number ON orders (channel_order_id);
        """),
        (12, "finance projection", """
        CREATE TABLE journal (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            location TEXT,
            channel TEXT,
            business_day TEXT NOT NULL,
            currency TEXT NOT NULL,
            total INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            daily INTEGER NOT NULL,
            summary TEXT,
            document TEXT,
            posted_at INTEGER
        );
        CREATE INDEX journal_day ON journal (location, business_day);
        CREATE INDEX journal_unposted ON journal (recorded_at) WHERE document IS NULL;
        """),
        (13, "price lists and promotions", """
        CREATE TABLE prices (
            sku TEXT NOT NULL,
            channel TEXT NOT NULL,
            country TEXT NOT NULL,
            version INTEGER NOT NULL,
            price INTEGER NOT NULL,
            currency TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_until INTEGER,
            PRIMARY KEY (channel, country, sku, version)
        ) WITHOUT ROWID;
        CREATE TABLE promotions (
            id TEXT PRIMARY KEY,
            body TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_until INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX promotions_window ON promotions (valid_until, valid_from);
        """),
        (14, "product categories", """
        ALTER TABLE products ADD COLUMN categories TEXT NOT NULL DEFAULT '';
        """),
        (15, "jobs carry their trace; orders by status and age", """
        ALTER TABLE jobs ADD COLUMN trace_parent TEXT;
        CREATE INDEX orders_status_age ON orders (status, updated_at);
        DROP INDEX orders_status;
        """),
    ]
}
