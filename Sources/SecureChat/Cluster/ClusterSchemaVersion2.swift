import PostgresNIO

/// Schema version 2: presence details, the login order, the ban-file import marker, and the functions every
/// node calls. Each function is one statement from the node's side: one round trip, one transaction, and
/// its notifications sent at commit (PostgreSQL delivers them in commit order, after the data is visible).
///
/// Notification payloads (as version 2 sent them; ``ClusterSchemaVersion3`` replaced them with doorbells) are
/// JSON objects on the channel `securechat`, told apart by `k`:
/// - `e` room lines: `n` node, `ms` commit time (milliseconds), `e` a list of `[room, sequence, except, line]`; the
///   line is left out when the whole payload would pass PostgreSQL's 8000-byte limit, and read from the table;
/// - `p` presence: `o` is `in` (with the member's details), `mv` (with `r`, the room) or `out`;
/// - `d` a node declared down (`n`, and `i` its incarnation);
/// - `b` the ban list changed;
/// - `m` a relayed direct message, `x` a relayed kick (to node `n`, member `u`).
enum ClusterSchemaVersion2 {
    static let statements: [PostgresQuery] = [
        "CREATE SEQUENCE securechat_login_order",
        """
        ALTER TABLE securechat_presence
            ADD COLUMN login_order bigint NOT NULL DEFAULT nextval('securechat_login_order'),
            ADD COLUMN transport text NOT NULL DEFAULT 'plaintext',
            ADD COLUMN certificate_fingerprint text,
            ADD COLUMN address text NOT NULL DEFAULT ''
        """,
        """
        CREATE TABLE securechat_imports (
            source text PRIMARY KEY,
            imported_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX securechat_bans_by_name ON securechat_bans (name_key)",
        publish,
        register,
        claim,
        sweep,
        retire,
    ]

    /// Commits a batch: first the batch's presence changes (members of this node who left or moved, so that
    /// every node knows where they are before it shows the notices about it), then its room lines: locks each
    /// room's row in name order (so two nodes never deadlock), numbers the lines in batch order, stores them
    /// and sends one notification. Returns the sequence numbers.
    static let publish: PostgresQuery = """
        CREATE FUNCTION securechat_publish(p_node text, p_rooms text[], p_excepts bigint[], p_lines text[],
            p_left text[], p_moved text[], p_moved_to text[])
        RETURNS bigint[] LANGUAGE plpgsql AS $fn$
        DECLARE
            v_next jsonb := '{}';
            v_room text;
            v_sequence bigint;
            v_sequences bigint[] := '{}';
            v_payload text;
            v_time bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
            v_key text;
        BEGIN
            FOR v_key IN
                DELETE FROM securechat_presence WHERE node = p_node AND name_key = ANY(p_left) RETURNING name_key
            LOOP
                PERFORM pg_notify('securechat', json_build_object('k', 'p', 'o', 'out', 'u', v_key, 'n', p_node)::text);
            END LOOP;
            FOR v_key, v_room IN
                UPDATE securechat_presence p SET room = t.r FROM unnest(p_moved, p_moved_to) AS t(k, r)
                WHERE p.node = p_node AND p.name_key = t.k RETURNING p.name_key, p.room
            LOOP
                PERFORM pg_notify('securechat',
                    json_build_object('k', 'p', 'o', 'mv', 'u', v_key, 'n', p_node, 'r', v_room)::text);
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
            INSERT INTO securechat_events (room, sequence, line)
                SELECT t.room, t.sequence, convert_to(t.line, 'UTF8')
                FROM unnest(p_rooms, v_sequences, p_lines) AS t(room, sequence, line);
            v_payload := json_build_object('k', 'e', 'n', p_node, 'ms', v_time, 'e',
                (SELECT json_agg(json_build_array(t.room, t.sequence, t.exc, t.line))
                 FROM unnest(p_rooms, v_sequences, p_excepts, p_lines) AS t(room, sequence, exc, line)))::text;
            IF octet_length(v_payload) > 7900 THEN
                v_payload := json_build_object('k', 'e', 'n', p_node, 'ms', v_time, 'e',
                    (SELECT json_agg(json_build_array(t.room, t.sequence, t.exc))
                     FROM unnest(p_rooms, v_sequences, p_excepts) AS t(room, sequence, exc)))::text;
            END IF;
            PERFORM pg_notify('securechat', v_payload);
            RETURN v_sequences;
        END
        $fn$
        """

    /// A node starts: a new incarnation under its name. Refused while another process under that name is
    /// alive; a previous incarnation that died is declared down, and its members are returned to be
    /// announced as lost.
    static let register: PostgresQuery = """
        CREATE FUNCTION securechat_register(p_node text, p_incarnation bigint, p_timeout_ms bigint)
        RETURNS TABLE(display_name text, room text) LANGUAGE plpgsql AS $fn$
        DECLARE
            v_old securechat_nodes%ROWTYPE;
            v_existed boolean;
        BEGIN
            SELECT * INTO v_old FROM securechat_nodes WHERE name = p_node FOR UPDATE;
            v_existed := FOUND;
            IF v_existed AND NOT v_old.declared_dead
                AND v_old.heartbeat_at > now() - p_timeout_ms * interval '1 millisecond' THEN
                RAISE EXCEPTION 'node name % is in use: a node under that name heartbeat % ago', p_node,
                    date_trunc('second', now() - v_old.heartbeat_at) USING ERRCODE = 'SC001';
            END IF;
            INSERT INTO securechat_nodes (name, incarnation) VALUES (p_node, p_incarnation)
            ON CONFLICT (name) DO UPDATE SET incarnation = EXCLUDED.incarnation, started_at = now(),
                heartbeat_at = now(), declared_dead = false;
            IF v_existed AND NOT v_old.declared_dead THEN
                PERFORM pg_notify('securechat', json_build_object('k', 'd', 'n', p_node, 'i', v_old.incarnation)::text);
            END IF;
            RETURN QUERY DELETE FROM securechat_presence p WHERE p.node = p_node RETURNING p.display_name, p.room;
        END
        $fn$
        """

    /// A login: the name is this node's if nobody in the cluster holds it (or a look-alike of it). Returns the
    /// login order, or NULL when the name is taken. Refused outright for a node that was declared down.
    static let claim: PostgresQuery = """
        CREATE FUNCTION securechat_claim(p_key text, p_display text, p_node text, p_incarnation bigint,
            p_room text, p_transport text, p_fingerprint text, p_address text)
        RETURNS bigint LANGUAGE plpgsql AS $fn$
        DECLARE
            v_order bigint;
            v_at timestamptz;
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
            RETURNING login_order, logged_in_at INTO v_order, v_at;
            IF v_order IS NOT NULL THEN
                PERFORM pg_notify('securechat', json_build_object('k', 'p', 'o', 'in', 'u', p_key, 'd', p_display,
                    'n', p_node, 'r', p_room, 'l', v_order, 't', p_transport, 'f', p_fingerprint, 'a', p_address,
                    'c', floor(extract(epoch FROM v_at)))::text);
            END IF;
            RETURN v_order;
        END
        $fn$
        """

    /// Declares down every other node silent for longer than the timeout, exactly once (the row lock makes a
    /// second node's sweep find nothing), and returns their members, to be announced as lost.
    static let sweep: PostgresQuery = """
        CREATE FUNCTION securechat_sweep(p_node text, p_timeout_ms bigint)
        RETURNS TABLE(display_name text, room text) LANGUAGE plpgsql AS $fn$
        DECLARE
            v_dead record;
        BEGIN
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
        END
        $fn$
        """

    /// A node shuts down cleanly: it leaves the cluster at once instead of waiting to be declared down.
    static let retire: PostgresQuery = """
        CREATE FUNCTION securechat_retire(p_node text, p_incarnation bigint)
        RETURNS TABLE(display_name text, room text) LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM 1 FROM securechat_nodes WHERE name = p_node AND incarnation = p_incarnation FOR UPDATE;
            IF NOT FOUND THEN RETURN; END IF;
            UPDATE securechat_nodes SET declared_dead = true WHERE name = p_node;
            PERFORM pg_notify('securechat', json_build_object('k', 'd', 'n', p_node, 'i', p_incarnation)::text);
            RETURN QUERY DELETE FROM securechat_presence p WHERE p.node = p_node RETURNING p.display_name, p.room;
        END
        $fn$
        """
}
