/// The one-page web client, compiled into the binary (no build step, no CDN).
///
/// Three resources: the page (`GET /`), its script (`GET /app.js`) and its style sheet (`GET /app.css`). They are
/// separate files, not one page with inline `<script>` and `<style>`, because the server sends a strict
/// Content-Security-Policy (`script-src 'self'; style-src 'self'`, no `'unsafe-inline'`): an injected script or
/// style attribute is refused by the browser even if one slipped into the page. The script puts every piece of text
/// that comes from the server into the DOM with `textContent`, never as HTML, and the page never shows an address.
///
/// The texts are in `WebPage+HTML.swift`, `WebPage+Script.swift` and `WebPage+Style.swift`.
enum WebPage {}
