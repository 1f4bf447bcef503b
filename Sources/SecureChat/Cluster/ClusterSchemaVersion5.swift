import PostgresNIO

/// Schema version 5: accounts, and the password-attempt buckets that every node shares.
///
/// - `securechat_accounts`: one row per look-alike key. `account` is the account as JSON (the same fields as
///   the account file), or null when the name is held after `/unregister` (`held_until`, seconds since the
///   epoch) or was dropped. A row is never deleted at once: every change gives it the next `revision`, and each
///   node reads the rows past the last revision it applied, so a drop reaches every node like any other change.
///   Rows with no account and no hold are deleted by pruning a day later.
/// - Every change goes through one function that takes the accounts lock for its transaction: revisions are
///   then committed in order, so a node that has read revision N has seen every change before it.
/// - `securechat_login_buckets`: the token buckets of wrong passwords, per account and address (`p:`) and
///   per address (`a:`), so that N nodes do not allow N times the guesses.
enum ClusterSchemaVersion5 {
    /// The key of the advisory lock that orders account changes ("SCaccnt!" in ASCII).
    static let accountsLock: Int64 = 0x5343_6163_636E_7421

    static let statements: [PostgresQuery] = [
        "CREATE SEQUENCE securechat_account_revisions",
        """
        CREATE TABLE securechat_accounts (
            name_key text PRIMARY KEY,
            account jsonb,
            held_until bigint,
            revision bigint NOT NULL,
            changed_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CREATE INDEX securechat_accounts_by_revision ON securechat_accounts (revision)",
        """
        CREATE TABLE securechat_login_buckets (
            key text PRIMARY KEY,
            tokens double precision NOT NULL,
            at timestamptz NOT NULL
        )
        """,
        register,
        write,
        allowed,
        failed,
        takeOver,
    ]

    /// Registers `p_account` under `p_key` unless the key has an account, is held until after `p_now`, or the
    /// cluster holds `p_capacity` accounts: returns `registered`, `taken`, `held` or `full`, and on success
    /// the revision, after a doorbell `a`.
    static let register: PostgresQuery = """
        CREATE FUNCTION securechat_register_account(p_key text, p_account jsonb, p_now bigint, p_capacity bigint,
            OUT outcome text, OUT revision bigint)
        LANGUAGE plpgsql AS $fn$
        DECLARE
            v_account jsonb;
            v_held bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(\(unescaped: String(accountsLock)));
            SELECT a.account, a.held_until INTO v_account, v_held FROM securechat_accounts a WHERE a.name_key = p_key;
            IF v_account IS NOT NULL THEN outcome := 'taken'; RETURN; END IF;
            IF v_held IS NOT NULL AND v_held > p_now THEN outcome := 'held'; RETURN; END IF;
            IF (SELECT count(*) FROM securechat_accounts a WHERE a.account IS NOT NULL) >= p_capacity THEN
                outcome := 'full'; RETURN;
            END IF;
            revision := nextval('securechat_account_revisions');
            INSERT INTO securechat_accounts (name_key, account, held_until, revision)
            VALUES (p_key, p_account, NULL, revision)
            ON CONFLICT (name_key) DO UPDATE
                SET account = excluded.account, held_until = NULL, revision = excluded.revision, changed_at = now();
            PERFORM pg_notify('securechat', '{"k":"a"}');
            outcome := 'registered';
        END
        $fn$
        """

    /// Replaces the account under `p_key`, if it still has revision `p_expected` (the one its writer read):
    /// `p_account` null removes it, holding the name until `p_held_until` when that is not null. Returns the
    /// new revision, or null when the row changed meanwhile or has no account (the writer reads it again).
    static let write: PostgresQuery = """
        CREATE FUNCTION securechat_write_account(p_key text, p_expected bigint, p_account jsonb,
            p_held_until bigint)
        RETURNS bigint LANGUAGE plpgsql AS $fn$
        DECLARE
            v_revision bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(\(unescaped: String(accountsLock)));
            UPDATE securechat_accounts
            SET account = p_account, held_until = p_held_until,
                revision = nextval('securechat_account_revisions'), changed_at = now()
            WHERE name_key = p_key AND revision = p_expected AND account IS NOT NULL
            RETURNING revision INTO v_revision;
            IF v_revision IS NOT NULL THEN PERFORM pg_notify('securechat', '{"k":"a"}'); END IF;
            RETURN v_revision;
        END
        $fn$
        """

    /// A log-in to the name's account: as `securechat_claim`, but whoever holds the name, on any node, loses it
    /// (their row is deleted in the same transaction). The doorbell `p` names the new holder's node; the old
    /// holder's node reads the row, finds the name on another node with a later log-in order than its own
    /// member's, and closes that connection (`You logged in from another connection.`).
    ///
    /// The fence on the node row repeats `securechat_claim`'s on purpose: taken before the delete, it locks the
    /// node row before any presence row, in the order `securechat_sweep` takes them, so the two never deadlock.
    static let takeOver: PostgresQuery = """
        CREATE FUNCTION securechat_take_over(p_key text, p_display text, p_node text, p_incarnation bigint,
            p_room text, p_transport text, p_fingerprint text, p_address text)
        RETURNS bigint LANGUAGE plpgsql AS $fn$
        BEGIN
            PERFORM 1 FROM securechat_nodes
                WHERE name = p_node AND incarnation = p_incarnation AND NOT declared_dead FOR SHARE;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'node % was declared down', p_node USING ERRCODE = 'SC002';
            END IF;
            DELETE FROM securechat_presence WHERE name_key = p_key;
            RETURN securechat_claim(p_key, p_display, p_node, p_incarnation, p_room, p_transport, p_fingerprint,
                p_address);
        END
        $fn$
        """

    /// Whether both buckets hold a token now (a bucket that does not exist is full). Takes nothing.
    static let allowed: PostgresQuery = """
        CREATE FUNCTION securechat_login_allowed(p_pair text, p_address text, p_pair_rate double precision,
            p_pair_burst double precision, p_address_rate double precision, p_address_burst double precision)
        RETURNS boolean LANGUAGE sql STABLE AS $fn$
            SELECT NOT EXISTS (
                SELECT 1 FROM securechat_login_buckets b
                WHERE (b.key = p_pair AND least(p_pair_burst,
                        b.tokens + p_pair_rate * extract(epoch FROM clock_timestamp() - b.at)) < 1)
                    OR (b.key = p_address AND least(p_address_burst,
                        b.tokens + p_address_rate * extract(epoch FROM clock_timestamp() - b.at)) < 1))
        $fn$
        """

    /// Charges a wrong password to both buckets (refilled for the time since their last charge first).
    static let failed: PostgresQuery = """
        CREATE FUNCTION securechat_login_failed(p_pair text, p_address text, p_pair_rate double precision,
            p_pair_burst double precision, p_address_rate double precision, p_address_burst double precision)
        RETURNS void LANGUAGE sql AS $fn$
            INSERT INTO securechat_login_buckets AS b (key, tokens, at)
            VALUES (p_pair, p_pair_burst - 1, clock_timestamp()), (p_address, p_address_burst - 1, clock_timestamp())
            ON CONFLICT (key) DO UPDATE SET
                tokens = greatest(0, least(
                    CASE WHEN b.key = p_pair THEN p_pair_burst ELSE p_address_burst END,
                    b.tokens + CASE WHEN b.key = p_pair THEN p_pair_rate ELSE p_address_rate END
                        * extract(epoch FROM clock_timestamp() - b.at)) - 1),
                at = clock_timestamp()
        $fn$
        """
}
