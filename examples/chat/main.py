"""chat: a FastAPI chat with rooms, one page and one plain WebSocket endpoint, run by asgi-lambda.

What it is:
    GET /             an HTML chat page (inline HTML and JavaScript, no external assets: it works
                      offline). Pick a name, connect, and talk with whoever is in your room.
    GET /config.json  {"websocket_url": ...}: where the page opens its WebSocket. On API Gateway
                      the WebSocket API has its own URL (another host), given by the environment
                      variable CHAT_WEBSOCKET_URL; when it is unset, the same host's /ws
                      (ws:// or wss:// as the page's own scheme), which is what the local gateway
                      serves.
    GET /health       {"status": "ok"}.
    WS  /ws?name=Ada  the chat. Everyone starts in the room `lobby`: "<nick> joined lobby" goes to
                      the room (the joining client's own connection is not open yet on API
                      Gateway, so it does not get its own "joined"), and each message
                      "<nick>: <text>" to everyone in the sender's room, the sender included.
                      `/join ROOM` moves you ("<nick> left <old>" to the old room, "<nick> joined
                      ROOM" to the new one, you included), `/nick NAME` renames you ("<old> is now
                      NAME"); on disconnect, "<nick> left <room>" goes to your room.

The room and the nickname live in `scope["aws.session"]`, the dict asgi-lambda keeps with the
connection from one event to the next; rooms are `asgi_lambda.websocket.join`, `leave` and
`broadcast(..., room=...)`. The endpoint is written as for any ASGI server. On Lambda each
WebSocket event runs it from the start: the adapter replays the connect phase (accept, the join,
the "joined" broadcast) without writing or sending anything again, so "joined" goes out once, at
$connect; and since the session keeps the room, the replay finds the room you moved to. The client
is authenticated at $connect, the only event that carries its credentials, and its identity kept in
the session: the stored request that later events replay holds credentials as "[redacted]"
(WS_REDACT).

The endpoint is routed at /ws, so wherever it runs WS_PATH=/ws says so: a WebSocket scope's path
is WS_PATH, / unless set, on Lambda and under `asgi-lambda serve` alike (without it, $connect is
refused with a warning naming the path and WS_PATH).

Running it locally: `make serve` from the repository root (the local gateway, with WS_PATH=/ws),
or `WS_PATH=/ws asgi-lambda serve main:app --app-dir examples/chat`; then open
http://127.0.0.1:8000/ in two browser tabs.

Deploying it: template.yaml with one line changed, `ASGI_APP: chat.main:app` (it packages
examples/, sets WS_PATH=/ws, CHAT_WEBSOCKET_URL and the rooms' table); `sam build` installs
examples/requirements.txt (fastapi); asgi-lambda itself comes from the layer.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse

from asgi_lambda.websocket import broadcast, join, leave

app = FastAPI(title="asgi-lambda chat example")


@app.get("/", response_class=HTMLResponse)
async def page() -> str:
    return PAGE


@app.get("/config.json")
async def config(request: Request) -> dict[str, str]:
    url = os.environ.get("CHAT_WEBSOCKET_URL", "").strip()
    if not url:
        # The page's own host and scheme: the local gateway serves the WebSocket there.
        scheme = "wss" if request.url.scheme in ("https", "wss") else "ws"
        host = request.headers.get("host") or request.url.netloc
        url = f"{scheme}://{host}{request.scope.get('root_path', '')}/ws"
    return {"websocket_url": url}


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def authenticate(websocket: WebSocket) -> str | None:
    """The connecting client's identity, None to refuse it. This demo has no accounts: the name it
    asks for. A real app checks a credential here (websocket.query_params["token"], a cookie), once."""
    return websocket.query_params.get("name") or "anonymous"


@app.websocket("/ws")
async def chat(websocket: WebSocket) -> None:
    session = websocket.scope["aws.session"]  # kept with the connection, from one event to the next
    if "nick" not in session:  # $connect: who the client is, decided once
        nick = authenticate(websocket)
        if nick is None:
            await websocket.close(code=1008)  # refused: API Gateway answers the handshake 403
            return
        session["nick"] = nick
    session.setdefault("room", "lobby")
    await websocket.accept()
    me = websocket.scope["aws.connection_id"]
    await join(me, session["room"])
    await broadcast(f"{session['nick']} joined {session['room']}", room=session["room"])
    try:
        while True:
            text = await websocket.receive_text()
            command, _, argument = text.partition(" ")
            if command == "/join" and argument.strip():
                await move(websocket, me, session, argument.strip())
            elif command == "/nick" and argument.strip():
                old, session["nick"] = session["nick"], argument.strip()
                await broadcast(f"{old} is now {session['nick']}", room=session["room"])
            else:
                await broadcast(f"{session['nick']}: {text}", room=session["room"])
    except WebSocketDisconnect:
        await broadcast(f"{session['nick']} left {session['room']}", room=session["room"])


async def move(websocket: WebSocket, me: str, session: dict[str, str], room: str) -> None:
    """From the session's room to another."""
    try:
        await join(me, room)
    except ValueError:  # the rule of room names
        await websocket.send_text(f"{room!r} is not a room name: use 1 to 128 letters, digits and . _ : @ / -")
        return
    old = session["room"]
    if old != room:
        await leave(me, old)
        await broadcast(f"{session['nick']} left {old}", room=old)
    session["room"] = room
    await broadcast(f"{session['nick']} joined {room}", room=room)


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>asgi-lambda chat</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  form { display: flex; gap: .5rem; margin: .5rem 0; }
  input { flex: 1; padding: .4rem; }
  #messages { list-style: none; padding: .5rem; border: 1px solid #ccc; min-height: 12rem; }
  #messages li { padding: .1rem 0; }
  #status, #help { color: #666; }
</style>
</head>
<body data-state="closed">
<h1>asgi-lambda chat</h1>
<form id="join">
  <input id="name" placeholder="Your name" autocomplete="nickname" value="anonymous">
  <button id="connect" type="submit">Connect</button>
</form>
<p id="status">Not connected.</p>
<p id="help">Everyone starts in the lobby. Type <code>/join ROOM</code> to change rooms, <code>/nick NAME</code> to rename yourself.</p>
<ul id="messages"></ul>
<form id="say">
  <input id="message" placeholder="Message" autocomplete="off" disabled>
  <button id="send" type="submit" disabled>Send</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let socket = null;

function sameHostUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

// On API Gateway the WebSocket API has its own host: the server says where it is.
async function websocketUrl() {
  try {
    const response = await fetch('config.json', {cache: 'no-store'});
    if (response.ok) {
      const config = await response.json();
      if (config.websocket_url) return config.websocket_url;
    }
  } catch (error) {
    console.warn('config.json unavailable, using this host', error);
  }
  return sameHostUrl();
}

function show(text) {
  const item = document.createElement('li');
  item.textContent = text;  // as text, never as markup: messages are other people's words
  $('messages').appendChild(item);
  item.scrollIntoView({block: 'nearest'});
}

function setState(state, text) {
  document.body.dataset.state = state;
  $('status').textContent = text;
  const open = state === 'open';
  $('message').disabled = !open;
  $('send').disabled = !open;
}

async function connect() {
  if (socket) socket.close();
  const name = $('name').value.trim() || 'anonymous';
  const url = new URL(await websocketUrl());
  url.searchParams.set('name', name);
  setState('connecting', `Connecting to ${url.origin}${url.pathname} ...`);
  const current = new WebSocket(url);
  socket = current;
  current.addEventListener('open', () => {
    if (socket === current) { setState('open', `Connected as ${name}.`); $('message').focus(); }
  });
  current.addEventListener('message', (event) => show(String(event.data)));
  current.addEventListener('close', () => {
    if (socket === current) { socket = null; setState('closed', 'Disconnected.'); }
  });
}

$('join').addEventListener('submit', (event) => { event.preventDefault(); connect(); });
$('say').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('message').value;
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  $('message').value = '';
});
</script>
</body>
</html>
"""
