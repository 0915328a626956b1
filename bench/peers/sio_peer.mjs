// Peer: a minimal Node socket.io server (websocket transport) broadcasting to every other client.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { Server } from "socket.io";

const [port, payloadFile] = process.argv.slice(2);
const payload = readFileSync(payloadFile, "utf8");
const http = createServer();
const io = new Server(http, { transports: ["websocket"], perMessageDeflate: false });
io.on("connection", (socket) => {
  socket.on("go", () => socket.broadcast.emit("m", payload));
});
http.listen(Number(port), "127.0.0.1", () => console.log("ready"));
