extension WebPage {
    /// The script served at `GET /app.js`: plain ES2020, no framework, no build step. It speaks the server's JSON
    /// protocol over one WebSocket (`/ws`), and puts text in the DOM with `textContent` only.
    static let script: String = #"""
        // SecureChat's web client. The server sends a strict Content-Security-Policy (no inline script or style,
        // no eval), so every control is wired up here with addEventListener, and everything that came from the
        // network reaches the page through textContent (never innerHTML): a message cannot become markup.
        'use strict';

        const $ = (id) => document.getElementById(id);
        const ui = {
          app: $('app'), roomName: $('room-name'), roomInfo: $('room-info'), status: $('status'),
          reconnect: $('reconnect'), panelToggle: $('panel-toggle'), panelClose: $('panel-close'), scrim: $('scrim'),
          messages: $('messages'), composer: $('composer'), input: $('composer-input'), send: $('composer-send'),
          members: $('members'), memberCount: $('member-count'), rooms: $('rooms'),
          joinForm: $('join-form'), joinRoom: $('join-room'),
          login: $('login'), loginForm: $('login-form'), loginLead: $('login-lead'), loginName: $('login-name'),
          passwordRow: $('password-row'),
          password: $('login-password'), loginError: $('login-error'), loginSubmit: $('login-submit'),
        };

        // The message list keeps this many entries: a tab left open for days must not grow without end.
        const MAX_ITEMS = 1000;

        const state = {
          socket: null,
          // Messages to send once the socket opens: the socket is opened by the first log-in, not on page load, because
          // the server gives a connection only so long to choose a name.
          pending: [],
          phase: 'name', // 'name', 'password' (the name is registered), 'chat', or 'closed' (after a chat)
          me: '',
          room: '',
          // The page asks for the member and room lists by itself; these count the answers still due, so that
          // only the ones the user asked for (/users, /rooms) are also written into the message list. The server
          // answers in order.
          quiet: { users: 0, rooms: 0 },
          pingSentAt: 0,
        };

        // ---- Small helpers ----------------------------------------------------------------------------------

        // An element with a class and, optionally, text (always as text, never parsed).
        function el(tag, className, text) {
          const node = document.createElement(tag);
          if (className) node.className = className;
          if (text !== undefined) node.textContent = text;
          return node;
        }

        // Fields from the server are used only if they have the expected type: the protocol may gain fields, and a
        // missing or odd one must not break the page.
        const str = (value) => (typeof value === 'string' ? value : '');
        const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);

        function send(message) {
          const socket = state.socket;
          if (socket && socket.readyState === WebSocket.OPEN) {
            socket.send(JSON.stringify(message));
            return true;
          }
          if (socket && socket.readyState === WebSocket.CONNECTING) {
            state.pending.push(message);
            return true;
          }
          return false;
        }

        // A request whose answer only refreshes the panel.
        function refresh(type) {
          if (send({ type })) state.quiet[type] += 1;
        }

        function setStatus(text, kind) {
          ui.status.textContent = text;
          ui.status.dataset.state = kind;
        }

        // ---- The message list -------------------------------------------------------------------------------

        function nearBottom() {
          const list = ui.messages;
          return list.scrollHeight - list.scrollTop - list.clientHeight < 48;
        }

        function append(item) {
          // Follow new messages only if the reader is at the bottom: someone scrolled up to read is not pulled away.
          const follow = nearBottom();
          ui.messages.append(item);
          while (ui.messages.childElementCount > MAX_ITEMS) ui.messages.firstElementChild.remove();
          if (follow) ui.messages.scrollTop = ui.messages.scrollHeight;
        }

        function timeOf(iso) {
          const date = iso ? new Date(iso) : new Date();
          return Number.isNaN(date.getTime()) ? new Date() : date;
        }

        // One entry: its time, then optionally who (a button that starts a DM), then the text.
        // kind: message, dm, notice, event, line or error; extra classes mark our own lines, replays and mentions.
        function addEntry(kind, { text = '', from = '', tag = '', time = '', replayed = false, self = false } = {}) {
          const item = el('li', `msg msg-${kind}`);
          if (self) item.classList.add('msg-self');
          if (replayed) item.classList.add('msg-replayed');
          if (kind === 'message' && !self && state.me && text.toLowerCase().includes(state.me.toLowerCase())) {
            item.classList.add('msg-mention');
          }
          const date = timeOf(time);
          // 24-hour hh:mm keeps the time column narrow on a phone; the full local date and time is in the tooltip.
          const clock = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
          const when = el('time', 'when', clock);
          when.dateTime = date.toISOString();
          when.title = date.toLocaleString();
          const body = el('div', 'body');
          if (tag) body.append(el('span', 'tag', tag));
          if (from) {
            if (!self && from !== state.me) {
              const who = el('button', 'from', from);
              who.type = 'button';
              who.dataset.name = from;
              who.title = `Send ${from} a private message`;
              body.append(who);
            } else {
              body.append(el('span', 'from', from));
            }
          }
          body.append(el('span', 'text', text));
          item.append(when, body);
          append(item);
        }

        function addDivider(text) {
          append(el('li', 'divider', text));
        }

        // ---- The panel: members and rooms -------------------------------------------------------------------

        function renderMembers(users) {
          const items = users.map((user) => {
            const name = str(user.name);
            const button = el('button');
            button.type = 'button';
            button.dataset.name = name;
            button.append(el('span', 'name', name));
            if (user.operator === true) button.append(el('span', 'badge op', 'op'));
            // Say who is on a plaintext connection: what is said to them crosses the network in the clear.
            if (user.encrypted === false) button.append(el('span', 'badge', 'plain'));
            const item = el('li', name === state.me ? 'you' : '');
            if (name !== state.me) button.title = `Send ${name} a private message`;
            item.append(button);
            return item;
          });
          ui.members.replaceChildren(...items);
          ui.memberCount.textContent = String(users.length);
          ui.roomInfo.textContent = `${users.length} ${users.length === 1 ? 'member' : 'members'}`;
          ui.panelToggle.textContent = `Members (${users.length})`;
        }

        function renderRooms(rooms) {
          const items = rooms.map((room) => {
            const name = str(room.name);
            const button = el('button');
            button.type = 'button';
            button.dataset.room = name;
            if (name === state.room) button.setAttribute('aria-current', 'true');
            button.append(el('span', 'name', name));
            const members = num(room.members);
            if (members !== null) button.append(el('span', 'members-count', String(members)));
            const item = el('li');
            item.append(button);
            return item;
          });
          ui.rooms.replaceChildren(...items);
        }

        function setPanel(open) {
          ui.app.classList.toggle('panel-open', open);
          ui.panelToggle.setAttribute('aria-expanded', String(open));
        }

        // A name clicked in the list or in a message: start a private message to it.
        function startDM(name) {
          if (!name || name === state.me) return;
          ui.input.value = `/msg ${name} `;
          setPanel(false);
          ui.input.focus();
        }

        function joinRoom(name) {
          let room = name.trim();
          if (!room) return;
          if (!room.startsWith('#')) room = `#${room}`;
          if (room !== state.room) send({ type: 'join', room });
          setPanel(false);
        }

        // ---- Logging in -------------------------------------------------------------------------------------

        function showLogin(error) {
          ui.login.hidden = false;
          ui.loginError.textContent = error || '';
          ui.loginSubmit.disabled = false;
          ui.passwordRow.hidden = state.phase !== 'password';
          ui.password.required = state.phase === 'password';
          (state.phase === 'password' ? ui.password : ui.loginName).focus();
        }

        function connect() {
          setStatus('Connecting…', 'idle');
          const socket = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
          state.socket = socket;
          state.quiet = { users: 0, rooms: 0 };
          // Events of a socket that was replaced (a reconnect) are ignored.
          socket.addEventListener('open', () => {
            if (state.socket !== socket) return;
            setStatus('Connected', 'ok');
            for (const message of state.pending.splice(0)) socket.send(JSON.stringify(message));
          });
          socket.addEventListener('message', (event) => {
            if (state.socket === socket) receive(event.data);
          });
          socket.addEventListener('close', (event) => {
            if (state.socket === socket) closed(event);
          });
        }

        function login(name) {
          state.phase = 'name';
          ui.loginSubmit.disabled = true;
          ui.loginError.textContent = '';
          const message = { type: 'login', name };
          if (!send(message)) {
            state.pending = [message];
            connect();
          }
        }

        function closed(event) {
          state.socket = null;
          state.pending = [];
          setStatus('Disconnected', 'bad');
          ui.input.disabled = true;
          ui.send.disabled = true;
          const why = event.reason ? `: ${event.reason}` : '';
          if (state.phase === 'chat' || state.phase === 'closed') {
            // No automatic reconnect: the user decides (the server may have closed us on purpose).
            state.phase = 'closed';
            addEntry('error', { text: `Disconnected${why}.` });
            ui.reconnect.hidden = false;
            ui.members.replaceChildren();
            ui.memberCount.textContent = '';
            ui.roomInfo.textContent = '';
            ui.panelToggle.textContent = 'Members';
          } else {
            // Before the welcome the login form is still up; the next "Enter chat" opens a new connection. The
            // server's last error (too many wrong passwords...) says more than the close does, so it stays.
            const last = ui.loginError.textContent;
            state.phase = 'name';
            showLogin(`${last ? `${last} ` : ''}The connection closed${why}.`);
          }
        }

        // ---- What the server sends --------------------------------------------------------------------------

        const handlers = new Map(Object.entries({
          notice(m) {
            // The line protocol's name prompt (it says which names are allowed) belongs on the login form.
            if (state.phase !== 'chat' && str(m.text).startsWith('Choose a username')) {
              ui.loginLead.textContent = str(m.text).replace(/:\s*$/, '.');
              return;
            }
            addEntry('notice', { text: str(m.text), time: str(m.time), replayed: m.replayed === true });
          },
          error(m) {
            if (state.phase === 'chat') {
              addEntry('error', { text: str(m.text) });
            } else {
              // A refused name or wrong password: the server now waits for a name again.
              state.phase = 'name';
              showLogin(str(m.text));
            }
          },
          password_required(m) {
            state.phase = 'password';
            if (str(m.name)) ui.loginName.value = str(m.name);
            showLogin('');
          },
          welcome(m) {
            state.phase = 'chat';
            state.me = str(m.name);
            ui.login.hidden = true;
            ui.password.value = '';
            ui.reconnect.hidden = true;
            ui.input.disabled = false;
            ui.send.disabled = false;
            addDivider(`Signed in as ${state.me}`);
            if (str(m.text)) addEntry('notice', { text: str(m.text) });
            enterRoom(str(m.room));
            ui.input.focus();
          },
          entered(m) {
            addDivider(`You are in ${str(m.room)}`);
            enterRoom(str(m.room));
          },
          history(m) {
            if ((num(m.count) || 0) > 0) addDivider(`Earlier in ${str(m.room)}`);
          },
          history_end() {},
          message(m) {
            const from = str(m.from);
            addEntry('message', {
              from, text: str(m.text), time: str(m.time), replayed: m.replayed === true, self: from === state.me,
            });
          },
          joined(m) {
            const text = `${str(m.name)} joined ${str(m.room)}`;
            addEntry('event', { text, time: str(m.time), replayed: m.replayed === true });
            // Live only: a replayed join is long past. The room list's counts change too.
            if (m.replayed !== true) {
              refresh('users');
              refresh('rooms');
            }
          },
          left(m) {
            const text = str(m.text) || `${str(m.name)} left ${str(m.room)}`;
            addEntry('event', { text, time: str(m.time), replayed: m.replayed === true });
            // Live only: a replayed join is long past. The room list's counts change too.
            if (m.replayed !== true) {
              refresh('users');
              refresh('rooms');
            }
          },
          dm(m) {
            addEntry('dm', { tag: 'DM', from: str(m.from), text: str(m.text), time: str(m.time) });
          },
          dm_sent(m) {
            const tag = `DM to ${str(m.to)}`;
            addEntry('dm', { tag, from: state.me, text: str(m.text), time: str(m.time), self: true });
          },
          users(m) {
            const users = Array.isArray(m.users) ? m.users.filter((u) => u && typeof u === 'object') : [];
            const room = str(m.room);
            // The list of everyone (/users all, room null) is an answer to read, not this room's members.
            if (room && room === state.room) renderMembers(users);
            if (state.quiet.users > 0) {
              state.quiet.users -= 1;
              return;
            }
            const names = users.map((u) => (room ? str(u.name) : `${str(u.name)} (${str(u.room)})`)).join(', ');
            const total = num(m.total) ?? users.length;
            addEntry('notice', { text: `Users ${room ? `in ${room}` : 'online'} (${total}): ${names}` });
          },
          rooms(m) {
            const rooms = Array.isArray(m.rooms) ? m.rooms.filter((r) => r && typeof r === 'object') : [];
            renderRooms(rooms);
            if (state.quiet.rooms > 0) {
              state.quiet.rooms -= 1;
              return;
            }
            const list = rooms.map((r) => `${str(r.name)} (${num(r.members) ?? '?'})`).join(', ');
            addEntry('notice', { text: `Rooms (${num(m.total) ?? rooms.length}): ${list}` });
          },
          // A line as the line protocol shows it (relayed by another node of a cluster): shown as it is.
          line(m) {
            addEntry('line', { text: str(m.text), time: str(m.time), replayed: m.replayed === true });
          },
          pong() {
            const elapsed = state.pingSentAt ? Math.round(performance.now() - state.pingSentAt) : null;
            state.pingSentAt = 0;
            addEntry('notice', { text: elapsed === null ? 'pong' : `pong (${elapsed} ms)` });
          },
        }));

        function enterRoom(room) {
          state.room = room;
          ui.roomName.textContent = room || 'SecureChat';
          document.title = room ? `${room} · SecureChat` : 'SecureChat';
          ui.members.replaceChildren();
          ui.roomInfo.textContent = '';
          refresh('users');
          refresh('rooms');
        }

        function receive(data) {
          let message;
          try {
            message = JSON.parse(data);
          } catch {
            return; // Not JSON: nothing this page can show.
          }
          if (!message || typeof message !== 'object') return;
          const handler = handlers.get(str(message.type));
          if (handler) {
            handler(message);
          } else if (str(message.text)) {
            // A type this page does not know yet: its text is still worth showing.
            addEntry('notice', { text: str(message.text), time: str(message.time) });
          }
        }

        // ---- What the user does -----------------------------------------------------------------------------

        // A composer line: "//x" is chat that starts with "/x"; "/x" is a command of the line protocol, passed as
        // is (the server knows them all, operators' ones included); anything else is chat to the room.
        function submitLine(line) {
          if (line.startsWith('/') && !line.startsWith('//')) {
            if (/^\/ping(\s|$)/i.test(line)) state.pingSentAt = performance.now();
            return send({ type: 'command', line });
          }
          const text = line.startsWith('//') ? line.slice(1) : line;
          // The server does not echo our own chat back, so it is shown here.
          if (!send({ type: 'say', text })) return false;
          addEntry('message', { from: state.me, text, self: true });
          return true;
        }

        ui.composer.addEventListener('submit', (event) => {
          event.preventDefault();
          const line = ui.input.value;
          if (!line.trim()) return;
          if (submitLine(line)) ui.input.value = '';
        });

        ui.loginForm.addEventListener('submit', (event) => {
          event.preventDefault();
          const name = ui.loginName.value.trim();
          if (!name) return;
          if (state.phase === 'password' && ui.password.value && state.socket) {
            ui.loginSubmit.disabled = true;
            send({ type: 'password', password: ui.password.value });
            ui.password.value = '';
          } else {
            login(name);
          }
        });

        // Changing the name at the password prompt means "log in as someone else": the password field goes away,
        // and so does the connection. At its password prompt the server takes whatever comes next as the password
        // (a new name would count as a wrong one), so the other name is sent on a new connection.
        ui.loginName.addEventListener('input', () => {
          if (state.phase !== 'password') return;
          state.phase = 'name';
          ui.passwordRow.hidden = true;
          ui.password.required = false;
          ui.password.value = '';
          const socket = state.socket;
          state.socket = null;
          state.pending = [];
          if (socket) socket.close();
          setStatus('Not connected', 'idle');
        });

        ui.reconnect.addEventListener('click', () => {
          addDivider('Reconnecting');
          ui.reconnect.hidden = true;
          ui.loginName.value = state.me;
          state.phase = 'name';
          showLogin('');
          login(state.me);
        });

        // Names in the member list and in messages start a DM; rooms in the room list are joined.
        ui.members.addEventListener('click', (event) => {
          const button = event.target.closest('button[data-name]');
          if (button) startDM(button.dataset.name);
        });
        ui.messages.addEventListener('click', (event) => {
          const button = event.target.closest('button[data-name]');
          if (button) startDM(button.dataset.name);
        });
        ui.rooms.addEventListener('click', (event) => {
          const button = event.target.closest('button[data-room]');
          if (button) joinRoom(button.dataset.room);
        });
        ui.joinForm.addEventListener('submit', (event) => {
          event.preventDefault();
          joinRoom(ui.joinRoom.value);
          ui.joinRoom.value = '';
        });

        ui.panelToggle.addEventListener('click', () => setPanel(!ui.app.classList.contains('panel-open')));
        ui.panelClose.addEventListener('click', () => setPanel(false));
        ui.scrim.addEventListener('click', () => setPanel(false));
        document.addEventListener('keydown', (event) => {
          if (event.key === 'Escape') setPanel(false);
        });

        ui.loginName.focus();

        """#
}
