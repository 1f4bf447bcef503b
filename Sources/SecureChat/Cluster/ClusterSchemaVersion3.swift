import PostgresNIO

/// Schema version 3: notifications become doorbells, events carry their sender, DMs and kicks are stored,
/// and a node can take over its own name at once after a crash.
///
/// - `securechat_events` holds structured events: `kind`, `sender_name`, `sender_node`,
///   `sender_connection` and `body` (rows of version 2 keep their rendered `line`, and an empty kind). A
///   node reads every line from the table (never from a notification), validates, sanitises and renders
///   it, and the sender's connection does not get it back, live, from catch-up or from a gap fill alike.
/// - `securechat_relays` holds direct messages and kicks for a node until that node takes them (in order,
///   deleting them as it reads), so a forged notification cannot show anyone anything, and a relay sent
///   while the node's listener reconnects is taken at its catch-up instead of being lost.
/// - The functions send doorbells (see ``ClusterNotification``): `e` with the node, the commit time, the
///   rooms and the last sequence committed in each; `p` with the name key and the node; `d` with the node and its incarnation; `b`; `m` with the
///   node that has relays waiting.
/// - `securechat_register` takes the incarnation the same node had before (from its incarnation file):
///   when it is the registered one, the name is taken over at once, however recent its heartbeat.
/// - `securechat_retire` deregisters the node (deletes its row), so a restart under the same name is a
///   fresh start.
enum ClusterSchemaVersion3 {
    static let statements: [PostgresQuery] = [
        """
        ALTER TABLE securechat_events
            ADD COLUMN kind text NOT NULL DEFAULT '',
            ADD COLUMN sender_name text NOT NULL DEFAULT '',
            ADD COLUMN sender_node text NOT NULL DEFAULT '',
            ADD COLUMN sender_connection bigint NOT NULL DEFAULT 0,
            ADD COLUMN body text NOT NULL DEFAULT ''
        """,
        """
        CREATE TABLE securechat_relays (
            id bigserial PRIMARY KEY,
            node text NOT NULL,
            name_key text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('dm', 'kick')),
            line text NOT NULL DEFAULT '',
            action text NOT NULL DEFAULT '',
            by_name text NOT NULL DEFAULT '',
            reason text,
            sent_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX securechat_relays_by_node ON securechat_relays (node, id)",
        "DROP FUNCTION securechat_publish(text, text[], bigint[], text[], text[], text[], text[])",
        publish,
        claim,
        "DROP FUNCTION securechat_register(text, bigint, bigint)",
        register,
        sweep,
        retire,
    ]

    /// As in version 2, but the lines are stored as events (kind `chat` or `notice`, the sender's name, node
    /// and connection, the text; `line` is left empty, each node renders), and the notification lists only
    /// the rooms and the last sequence number committed in each (both left out when they would not fit).
    static let publish: PostgresQuery = """
        CREATE FUNCTION securechat_publish(p_node text, p_rooms text[], p_excepts bigint[], p_kinds text[],
            p_names text[], p_texts text[], p_left text[], p_moved text[], p_moved_to text[])
        RETURNS bigint[] LANGUAGE plpgsql AS $fn$
        DECLARE
            v_next jsonb := '{}';
            v_room text;
            v_sequence bigint;
            v_sequences bigint[] := '{}';
            v_payload text;
            v_time bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
            v_key text;
            v_rooms json;
            v_lasts json;
        BEGIN
            FOR v_key IN
                DELETE FROM securechat_presence WHERE node = p_node AND name_key = ANY(p_left) RETURNING name_key
            LOOP
                PERFORM pg_notify('securechat', json_build_object('k', 'p', 'u', v_key, 'n', p_node)::text);
            END LOOP;
            FOR v_key IN
                UPDATE securechat_presence p SET room = t.r FROM unnest(p_moved, p_moved_to) AS t(k, r)
                WHERE p.node = p_node AND p.name_key = t.k RETURNING p.name_key
            LOOP
                PERFORM pg_notify('securechat', json_build_object('k', 'p', 'u', v_key, 'n', p_node)::text);
            END LOOP;
            IF coalesce(cardinality(p_rooms), 0) = 0 THEN
                RETURN '{}';
            END IF;
            INSERT INTO securechat_rooms (name) SELECT DISTINCT r FROM unnest(p_rooms) AS r ON CONFLICT DO NOTHING;
            FOR v_room, v_sequence IN
                SELECT name, last_sequence FROM securechat_rooms WHERE name = ANY(p_rooms) ORDER BY name FOR UPDATE
            LOOP
                v_next := v_next || jsonb_build_object(v_room, v_sequence);
            END LOOP;
            FOR i IN 1 .. coalesce(cardinality(p_rooms), 0) LOOP
                v_sequence := (v_next ->> p_rooms[i])::bigint + 1;
                v_next := v_next || jsonb_build_object(p_rooms[i], v_sequence);
                v_sequences := v_sequences || v_sequence;
            END LOOP;
            UPDATE securechat_rooms SET last_sequence = (v_next ->> name)::bigint WHERE name = ANY(p_rooms);
            INSERT INTO securechat_events (room, sequence, line, kind, sender_name, sender_node, sender_connection,
                body)
                SELECT t.room, t.sequence, ''::bytea, t.kind, t.name, p_node, t.exc, t.body
                FROM unnest(p_rooms, v_sequences, p_kinds, p_names, p_excepts, p_texts)
                    AS t(room, sequence, kind, name, exc, body);
            SELECT json_agg(x.room ORDER BY x.room), json_agg(x.last ORDER BY x.room) INTO v_rooms, v_lasts
            FROM (SELECT t.room, max(t.sequence) AS last FROM unnest(p_rooms, v_sequences) AS t(room, sequence)
                GROUP BY t.room) AS x;
            v_payload := json_build_object('k', 'e', 'n', p_node, 'ms', v_time, 'r', v_rooms, 's', v_lasts)::text;
            IF octet_length(v_payload) > 7900 THEN
                v_payload := json_build_object('k', 'e', 'n', p_node, 'ms', v_time)::text;
            END IF;
            PERFORM pg_notify('securechat', v_payload);
            RETURN v_sequences;
        END
        $fn$
        """

    /// As in version 2; the notification carries only the name key and the node.
    static let claim: PostgresQuery = """
        CREATE OR REPLACE FUNCTION securechat_claim(p_key text, p_display text, p_node text, p_incarnation bigint,
            p_room text, p_transport text, p_fingerprint text, p_address text)
        RETURNS bigint LANGUAGE plpgsql AS $fn$
        DECLARE
            v_order bigint;
        BEGIN
            PERFORM 1 FROM securechat_nodes
                WHERE name = p_node AND incarnation = p_incarnation AND NOT declared_dead FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'node % was declared down', p_node USING ERRCODE = 'SC002';
            END IF;
            INSERT INTO securechat_presence (name_key, display_name, node, room, transport,
                certificate_fingerprint, address)
            VALUES (p_key, p_display, p_node, p_room, p_transport, p_fingerprint, p_address)
            ON CONFLICT (name_key) DO NOTHING
            RETURNING login_order INTO v_order;
            IF v_order IS NOT NULL THEN
                PERFORM pg_notify('securechat', json_build_object('k', 'p', 'u', p_key, 'n', p_node)::text);
            END IF;
            RETURN v_order;
        END
        $fn$
        """

    /// A node starts: a new incarnation under its name. Refused while another process under that name is
    /// alive, unless the registered incarnation is `p_previous`: the one this node's incarnation file names,
    /// which only a process holding that file's lock can pass (see ``IncarnationFile``), so that process is
    /// gone. A previous incarnation is declared down, its members are returned to be announced as lost, and
    /// relays left for it are dropped.
    static let register: PostgresQuery = """
        CREATE FUNCTION securechat_register(p_node text, p_incarnation bigint, p_timeout_ms bigint,
            p_previous bigint)
        RETURNS TABLE(display_name text, room text) LANGUAGE plpgsql AS $fn$
        DECLARE
            v_old securechat_nodes%ROWTYPE;
            v_existed boolean;
        BEGIN
            SELECT * INTO v_old FROM securechat_nodes WHERE name = p_node FOR UPDATE;
            v_existed := FOUND;
            IF v_existed AND NOT v_old.declared_dead AND v_old.incarnation IS DISTINCT FROM p_previous
                AND v_old.heartbeat_at > now() - p_timeout_ms * interval '1 millisecond' THEN
                RAISE EXCEPTION 'node name % is in use: a node under that name heartbeat % ago', p_node,
                    date_trunc('second', now() - v_old.heartbeat_at) USING ERRCODE = 'SC001';
            END IF;
            INSERT INTO securechat_nodes (name, incarnation) VALUES (p_node, p_incarnation)
            ON CONFLICT (name) DO UPDATE SET incarnation = EXCLUDED.incarnation, started_at = now(),
                heartbeat_at = now(), declared_dead = false;
            DELETE FROM securechat_relays WHERE node = p_node;
            IF v_existed AND NOT v_old.declared_dead THEN
                PERFORM pg_notify('securechat', json_build_object('k', 'd', 'n', p_node, 'i', v_old.incarnation)::text);
            END IF;
            RETURN QUERY DELETE FROM securechat_presence p WHERE p.node = p_node RETURNING p.display_name, p.room;
        END
        $fn$
        """

    /// As in version 2, and relays nobody will take (for a node declared down, or one that is not
    /// registered) are dropped. The sweeper must have beaten within a quarter of the timeout (its heartbeat
    /// deadline) as the sweep runs: a sweep sent just before the database froze runs when it thaws, when every
    /// node's heartbeat is old, and would declare down nodes that never lost their users (found by
    /// bench/chaos.sh). The node's own rule, that it declares others down only after a node timeout of unbroken
    /// heartbeats, cannot see a statement that waits in the database; this check can.
    static let sweep: PostgresQuery = """
        CREATE OR REPLACE FUNCTION securechat_sweep(p_node text, p_timeout_ms bigint)
        RETURNS TABLE(display_name text, room text) LANGUAGE plpgsql AS $fn$
        DECLARE
            v_dead record;
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM securechat_nodes WHERE name = p_node AND NOT declared_dead
                    AND heartbeat_at >= now() - (p_timeout_ms / 4) * interval '1 millisecond')
            THEN
                RETURN;
            END IF;
            FOR v_dead IN
                UPDATE securechat_nodes SET declared_dead = true
                WHERE NOT declared_dead AND name <> p_node
                    AND heartbeat_at < now() - p_timeout_ms * interval '1 millisecond'
                RETURNING name, incarnation
            LOOP
                PERFORM pg_notify('securechat', json_build_object('k', 'd', 'n', v_dead.name, 'i', v_dead.incarnation)::text);
                RETURN QUERY DELETE FROM securechat_presence p WHERE p.node = v_dead.name
                    RETURNING p.display_name, p.room;
            END LOOP;
            DELETE FROM securechat_relays r WHERE NOT EXISTS (
                SELECT 1 FROM securechat_nodes n WHERE n.name = r.node AND NOT n.declared_dead);
        END
        $fn$
        """

    /// A node shuts down cleanly: its members are returned (to be announced as gone at once) and its row is
    /// deleted, so that the name is free and a restart under it starts afresh.
    static let retire: PostgresQuery = """
        CREATE OR REPLACE FUNCTION securechat_retire(p_node text, p_incarnation bigint)
        RETURNS TABLE(display_name text, room text) LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM 1 FROM securechat_nodes WHERE name = p_node AND incarnation = p_incarnation FOR UPDATE;
            IF NOT FOUND THEN RETURN; END IF;
            RETURN QUERY DELETE FROM securechat_presence p WHERE p.node = p_node RETURNING p.display_name, p.room;
            DELETE FROM securechat_relays WHERE node = p_node;
            DELETE FROM securechat_nodes WHERE name = p_node;
            PERFORM pg_notify('securechat', json_build_object('k', 'd', 'n', p_node, 'i', p_incarnation)::text);
        END
        $fn$
        """
}
