// Peer: a minimal Node `ws` server doing the broadcast the usual way (send to every other client).
import { readFileSync } from "node:fs";
import { WebSocketServer, WebSocket } from "ws";

const [port, payloadFile] = process.argv.slice(2);
const payload = readFileSync(payloadFile, "utf8");
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(port), perMessageDeflate: false });
wss.on("connection", (sock) => {
  sock.on("message", () => {
    for (const client of wss.clients) {
      if (client !== sock && client.readyState === WebSocket.OPEN) client.send(payload);
    }
  });
});
wss.on("listening", () => console.log("ready"));
