extension WebPage {
    /// The style sheet served at `GET /app.css`. System fonts only (the policy allows no font source, and a web
    /// font would be a request to somewhere else), light and dark from the system's setting. Below 760 px the side
    /// panel leaves the layout and slides in over the messages from the header's Members button.
    static let style: String = #"""
        :root {
          --bg: #f6f7f9;
          --surface: #ffffff;
          --fg: #1c2330;
          --muted: #667085;
          --line: #e3e6eb;
          --accent: #2b62d9;
          --accent-fg: #ffffff;
          --accent-soft: #e8eefc;
          --self: #0f7a5a;
          --dm-bg: #f3ecfd;
          --dm-line: #8b5cf6;
          --dm-fg: #6d3fd1;
          --error: #c0362c;
          --error-bg: #fdecea;
          --mention-bg: #fff6d6;
          --ok: #1f9d55;
          --radius: 10px;
          --shadow: 0 10px 30px rgba(16, 24, 40, 0.18);
          color-scheme: light dark;
        }

        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #12151b;
            --surface: #1a1f27;
            --fg: #e6e9ef;
            --muted: #98a2b3;
            --line: #2a313c;
            --accent: #6b9bff;
            --accent-fg: #0d1320;
            --accent-soft: #1e2a44;
            --self: #4fd1a1;
            --dm-bg: #251d38;
            --dm-line: #a78bfa;
            --dm-fg: #c4b5fd;
            --error: #ff8a80;
            --error-bg: #3a1d1d;
            --mention-bg: #3a3217;
            --ok: #4ade80;
            --shadow: 0 10px 30px rgba(0, 0, 0, 0.5);
          }
        }

        *, *::before, *::after { box-sizing: border-box; }
        [hidden] { display: none !important; }

        html, body { height: 100%; margin: 0; }
        body {
          background: var(--bg);
          color: var(--fg);
          font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Ubuntu, Cantarell, "Noto Sans", sans-serif;
          -webkit-text-size-adjust: 100%;
        }
        h1, h2, p { margin: 0; }
        input, button { font: inherit; color: inherit; }

        .visually-hidden {
          position: absolute; width: 1px; height: 1px; overflow: hidden;
          clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap;
        }

        .button {
          border: 1px solid var(--line);
          background: var(--surface);
          border-radius: 8px;
          padding: 0.45rem 0.85rem;
          cursor: pointer;
          white-space: nowrap;
        }
        .button:hover { border-color: var(--accent); }
        .button:disabled { opacity: 0.5; cursor: default; }
        .button.primary {
          background: var(--accent); border-color: var(--accent); color: var(--accent-fg); font-weight: 600;
        }
        :focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }

        /* The frame: header on top, then messages and panel side by side; the page itself never scrolls. */
        .app { display: grid; grid-template-rows: auto minmax(0, 1fr); height: 100vh; height: 100dvh; }
        .topbar {
          display: flex; align-items: center; gap: 0.75rem;
          padding: 0.6rem 1rem; padding-top: max(0.6rem, env(safe-area-inset-top));
          background: var(--surface); border-bottom: 1px solid var(--line);
        }
        .title { display: flex; align-items: baseline; gap: 0.6rem; min-width: 0; flex: 1; }
        .title h1 {
          font-size: 1.15rem; font-weight: 650; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
        }
        .room-info { color: var(--muted); font-size: 0.85rem; white-space: nowrap; }
        .status { color: var(--muted); font-size: 0.85rem; display: inline-flex; align-items: center; gap: 0.35rem; }
        .status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
        .status[data-state="ok"]::before { background: var(--ok); }
        .status[data-state="bad"] { color: var(--error); }
        .status[data-state="bad"]::before { background: var(--error); }

        .layout { display: grid; grid-template-columns: minmax(0, 1fr) 270px; min-height: 0; }
        .chat { display: grid; grid-template-rows: minmax(0, 1fr) auto; min-height: 0; min-width: 0; }

        /* Messages: time in a narrow column, then who and what; DMs, notices and errors each look different. */
        .messages {
          list-style: none; margin: 0; padding: 0.75rem 1rem; overflow-y: auto; overscroll-behavior: contain;
        }
        .msg {
          display: grid; grid-template-columns: 3.2rem minmax(0, 1fr); column-gap: 0.5rem;
          padding: 0.2rem 0.5rem; border-radius: 6px; overflow-wrap: anywhere;
        }
        .msg + .msg { margin-top: 0.1rem; }
        .when { color: var(--muted); font-size: 0.75rem; padding-top: 0.2rem; font-variant-numeric: tabular-nums; }
        .body { min-width: 0; white-space: pre-wrap; }
        .from { font-weight: 650; margin-right: 0.45rem; }
        button.from { border: 0; background: none; padding: 0; cursor: pointer; color: var(--accent); }
        button.from:hover { text-decoration: underline; }
        .msg-self .from { color: var(--self); }
        .msg-mention { background: var(--mention-bg); }
        .msg-replayed { opacity: 0.72; }
        .msg-dm { background: var(--dm-bg); border-left: 3px solid var(--dm-line); margin: 0.25rem 0; }
        .msg-dm .from, .msg-dm button.from { color: var(--dm-fg); }
        .tag {
          font-size: 0.7rem; font-weight: 650; text-transform: uppercase; letter-spacing: 0.04em;
          border-radius: 4px; padding: 0 0.3rem; margin-right: 0.4rem; vertical-align: 0.08em;
        }
        .msg-dm .tag { background: var(--dm-line); color: var(--surface); }
        .msg-notice .body, .msg-event .body { color: var(--muted); }
        .msg-notice .body { font-size: 0.9rem; }
        .msg-event .body { font-size: 0.85rem; font-style: italic; }
        .msg-error { background: var(--error-bg); }
        .msg-error .body { color: var(--error); }
        .divider {
          display: flex; align-items: center; gap: 0.75rem; margin: 0.6rem 0;
          color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.05em;
        }
        .divider::before, .divider::after { content: ""; flex: 1; border-top: 1px solid var(--line); }

        .composer {
          display: flex; gap: 0.5rem; padding: 0.6rem 1rem;
          padding-bottom: max(0.6rem, env(safe-area-inset-bottom));
          background: var(--surface); border-top: 1px solid var(--line);
        }
        .composer-input, .login-card input, .join-form input {
          flex: 1; min-width: 0; border: 1px solid var(--line); border-radius: 8px;
          background: var(--bg); padding: 0.55rem 0.75rem;
        }
        .composer-input:focus, .login-card input:focus, .join-form input:focus {
          outline: none; border-color: var(--accent);
        }

        /* The side panel: members of the room, then the rooms. */
        .panel {
          background: var(--surface); border-left: 1px solid var(--line); overflow-y: auto; padding: 0.5rem 0 1rem;
        }
        .panel-head { display: flex; align-items: center; justify-content: space-between; padding: 0.6rem 1rem 0.3rem; }
        .panel h2 { font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
        .count { font-weight: 400; }
        .panel-close, .panel-toggle { display: none; }
        .list { list-style: none; margin: 0; padding: 0 0.5rem; }
        .list button {
          display: flex; align-items: center; gap: 0.4rem; width: 100%; text-align: left;
          border: 0; background: none; padding: 0.35rem 0.5rem; border-radius: 6px; cursor: pointer;
        }
        .list button:hover { background: var(--accent-soft); }
        .list .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; flex: 1; }
        .list .badge {
          font-size: 0.7rem; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 0.3rem;
        }
        .list .badge.op { color: var(--accent); border-color: var(--accent); }
        .list .you .name::after { content: " (you)"; color: var(--muted); }
        .rooms button[aria-current="true"] { background: var(--accent-soft); color: var(--accent); font-weight: 650; }
        .rooms .members-count { color: var(--muted); font-size: 0.8rem; }
        .join-form { display: flex; gap: 0.4rem; padding: 0.6rem 1rem 0; }
        .hint { color: var(--muted); font-size: 0.8rem; padding: 0.8rem 1rem 0; }
        .scrim { display: none; }

        /* The name prompt, over everything until the server welcomes us. */
        .login {
          position: fixed; inset: 0; z-index: 30; display: grid; place-items: center; padding: 1rem;
          background: var(--bg);
        }
        .login-card {
          width: min(100%, 360px); display: grid; gap: 0.5rem; padding: 1.5rem;
          background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius);
          box-shadow: var(--shadow);
        }
        .login-card h1 { font-size: 1.4rem; }
        .login-lead, .login-note { color: var(--muted); font-size: 0.9rem; }
        .login-card label { font-weight: 600; font-size: 0.9rem; margin-top: 0.4rem; }
        .password-row { display: grid; gap: 0.5rem; }
        .login-error { color: var(--error); font-size: 0.9rem; min-height: 1.3em; }
        .login-card .button { margin-top: 0.2rem; padding: 0.6rem; }

        /* Phones: the panel slides in from the right over a dimmed chat. */
        @media (max-width: 759px) {
          .layout { grid-template-columns: minmax(0, 1fr); }
          .panel-toggle, .panel-close { display: inline-block; }
          .panel {
            position: fixed; top: 0; right: 0; bottom: 0; z-index: 20; width: min(85vw, 320px);
            border-left: 1px solid var(--line); box-shadow: var(--shadow);
            transform: translateX(105%); transition: transform 0.2s ease; visibility: hidden;
          }
          .app.panel-open .panel { transform: none; visibility: visible; }
          .app.panel-open .scrim {
            display: block; position: fixed; inset: 0; z-index: 10; background: rgba(0, 0, 0, 0.35);
          }
          .topbar { padding-left: 0.75rem; padding-right: 0.75rem; gap: 0.5rem; }
          .room-info { display: none; }
          .status { font-size: 0; gap: 0; }
          .status[data-state="bad"] { font-size: 0.8rem; gap: 0.35rem; }
          .messages { padding: 0.5rem; }
          .msg { grid-template-columns: 2.9rem minmax(0, 1fr); padding: 0.2rem 0.35rem; }
          .composer { padding-left: 0.5rem; padding-right: 0.5rem; }
        }

        @media (prefers-reduced-motion: reduce) {
          .panel { transition: none; }
        }

        """#
}
