"""stream: a FastAPI app that streams a reply token by token as Server-Sent Events, as an LLM chat
does, and a page that shows the tokens as they arrive. Run by asgi-lambda with response streaming.

What it is:
    GET /                   an HTML page (inline HTML and JavaScript, no external assets): type a
                            prompt, press Send, and the reply appears a token at a time.
    GET /tokens?prompt=...  the reply as Server-Sent Events: one `data:` event per token (the token
                            as a JSON string, so leading spaces survive), then `event: done`.

`generate` stands for a model: it yields the reply's tokens, TOKEN_DELAY_SECONDS apart (default
0.05). Nothing here knows about Lambda: a plain `StreamingResponse`.

Running it locally: `asgi-lambda serve main:app --app-dir examples/stream --stream`, then open
http://127.0.0.1:8000/, or `curl -N 'http://127.0.0.1:8000/tokens?prompt=hi'` to watch the events
come. Without `--stream` the local gateway buffers as an HTTP API does, and the whole reply comes
at once, at the end.

Deploying it: template.yaml's StreamFunction (ASGI_APP=stream.main:app, ASGI_INVOKE_MODE=response_stream)
behind a Function URL with InvokeMode RESPONSE_STREAM and a REST API method with
responseTransferMode STREAM; `sam build` installs examples/requirements.txt (fastapi).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse

app = FastAPI(title="asgi-lambda streaming example")

TOKEN_DELAY_SECONDS = float(os.environ.get("TOKEN_DELAY_SECONDS", "0.05"))


def reply(prompt: str) -> list[str]:
    """The canned reply to `prompt`, cut into tokens as a model's tokenizer would (words, with their spaces)."""
    text = (
        f"You said: {prompt.strip() or 'nothing'}. Each word of this reply is sent as soon as it is ready, so you read it as it is written."
    )
    words = text.split(" ")
    return [words[0]] + [f" {word}" for word in words[1:]]


async def generate(prompt: str) -> AsyncIterator[str]:
    """The reply's tokens, one at a time, as a model produces them."""
    for index, token in enumerate(reply(prompt)):
        if index:
            await asyncio.sleep(TOKEN_DELAY_SECONDS)
        yield token


async def events(prompt: str) -> AsyncIterator[str]:
    async for token in generate(prompt):
        yield f"data: {json.dumps(token)}\n\n"
    yield "event: done\ndata: {}\n\n"


@app.get("/tokens")
async def tokens(prompt: str = "") -> StreamingResponse:
    # no-cache: a proxy must not hold the events back; X-Accel-Buffering for nginx in front, if any.
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(events(prompt), media_type="text/event-stream", headers=headers)


@app.get("/", response_class=HTMLResponse)
async def page() -> str:
    return PAGE


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>asgi-lambda streaming</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #output { white-space: pre-wrap; min-height: 4rem; padding: .5rem; border: 1px solid #ccc; border-radius: 4px; }
  form { display: flex; gap: .5rem; margin-bottom: 1rem; }
  input { flex: 1; }
</style>
</head>
<body data-state="idle">
<h1>Streaming tokens</h1>
<form id="form">
  <input id="prompt" placeholder="Say something" value="hello">
  <button id="send" type="submit">Send</button>
</form>
<div id="output" aria-live="polite"></div>
<p id="status">Idle.</p>
<script>
  const form = document.getElementById("form");
  const output = document.getElementById("output");
  const status = document.getElementById("status");
  let source = null;

  function setState(state, text) {
    document.body.dataset.state = state;
    status.textContent = text;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (source) source.close();
    output.textContent = "";
    // Relative: on a REST API the page is under its stage (/prod/), and so are the events.
    source = new EventSource("tokens?prompt=" + encodeURIComponent(document.getElementById("prompt").value));
    setState("waiting", "Waiting for the first token...");
    source.onmessage = (message) => {
      output.textContent += JSON.parse(message.data);
      setState("streaming", "Streaming...");
    };
    source.addEventListener("done", () => {
      source.close();
      setState("done", "Done.");
    });
    source.onerror = () => {
      source.close();
      setState("error", "The stream failed.");
    };
  });
</script>
</body>
</html>
"""
