extension WebPage {
    /// The page served at `GET /`. Nothing in it runs or styles by itself: `/app.js` wires every control up, and
    /// `/app.css` lays it out. The `hidden` attributes are the state before the script runs (the login form shows,
    /// the chat waits behind it).
    static let html: String = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
        <meta name="color-scheme" content="light dark">
        <meta name="referrer" content="no-referrer">
        <title>SecureChat</title>
        <link rel="icon" href="data:,">
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
        </head>
        <body>
        <div id="app" class="app">
          <header class="topbar">
            <div class="title">
              <h1 id="room-name">SecureChat</h1>
              <span id="room-info" class="room-info"></span>
            </div>
            <span id="status" class="status" data-state="idle">Not connected</span>
            <button id="reconnect" class="button" type="button" hidden>Reconnect</button>
            <button id="panel-toggle" class="button panel-toggle" type="button" aria-controls="panel"
              aria-expanded="false">Members</button>
          </header>
          <div class="layout">
            <main class="chat">
              <ol id="messages" class="messages" aria-live="polite" aria-label="Messages"></ol>
              <form id="composer" class="composer" autocomplete="off">
                <label class="visually-hidden" for="composer-input">Message</label>
                <input id="composer-input" class="composer-input" type="text" enterkeyhint="send" spellcheck="true"
                  placeholder="Message, or /help" disabled>
                <button id="composer-send" class="button primary" type="submit" disabled>Send</button>
              </form>
            </main>
            <div id="scrim" class="scrim"></div>
            <aside id="panel" class="panel" aria-label="Members and rooms">
              <div class="panel-head">
                <h2>Members <span id="member-count" class="count"></span></h2>
                <button id="panel-close" class="button panel-close" type="button">Close</button>
              </div>
              <ul id="members" class="list members"></ul>
              <div class="panel-head">
                <h2>Rooms</h2>
              </div>
              <ul id="rooms" class="list rooms"></ul>
              <form id="join-form" class="join-form" autocomplete="off">
                <label class="visually-hidden" for="join-room">Room to join</label>
                <input id="join-room" type="text" placeholder="#room" spellcheck="false" autocapitalize="none">
                <button class="button" type="submit">Join</button>
              </form>
              <p class="hint">Click a name to send a private message.</p>
            </aside>
          </div>
        </div>
        <div id="login" class="login">
          <form id="login-form" class="login-card" autocomplete="on">
            <h1>SecureChat</h1>
            <p id="login-lead" class="login-lead">Pick a name to join the chat.</p>
            <label for="login-name">Name</label>
            <input id="login-name" name="username" type="text" autocomplete="username" autocapitalize="none"
              spellcheck="false" required>
            <div id="password-row" class="password-row" hidden>
              <label for="login-password">Password</label>
              <input id="login-password" name="password" type="password" autocomplete="current-password">
              <p class="login-note">This name is registered: type its password, or change the name.</p>
            </div>
            <p id="login-error" class="login-error" role="alert"></p>
            <button id="login-submit" class="button primary" type="submit">Enter chat</button>
          </form>
        </div>
        </body>
        </html>

        """#
}
