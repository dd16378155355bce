"""A FastAPI app; Staxa runs it with uvicorn on $PORT."""
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/", response_class=PlainTextResponse)
def index() -> str:
    return "Hello from the Staxa Python (FastAPI) template\n"


@app.get("/healthz")
def healthz() -> dict:
    return {"ok": True}
