// A throwaway test CA with a server certificate for 127.0.0.1/localhost and a client
// certificate, made with openssl into a temp dir; and an HTTPS server with such a certificate.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import type http from "node:http";
import https from "node:https";
import type net from "node:net";
import os from "node:os";

/** PEM texts and file paths of the test PKI. */
export interface TestPki {
  dir: string;
  caFile: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCertFile: string;
  clientKeyFile: string;
  clientCert: string;
  clientKey: string;
  /** Removes the temp dir. */
  remove(): void;
}

/** Makes a fresh CA, server and client certificates (valid two days). */
export function makeTestPki(): TestPki {
  const dir = fs.mkdtempSync(`${os.tmpdir()}/requests-pki-`);
  const openssl = (...args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  openssl(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"],
    ...["-days", "2", "-subj", "/CN=requests test CA"],
    ...["-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  );
  fs.writeFileSync(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  fs.writeFileSync(
    `${dir}/client.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
  );
  for (const [name, subject] of [["server", "/CN=localhost"], ["client", "/CN=test client"]]) {
    openssl(
      ...["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`],
      ...["-out", `${name}.csr`, "-subj", subject],
    );
    openssl(
      ...["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key"],
      ...["-CAcreateserial", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`],
    );
  }
  const read = (file: string) => fs.readFileSync(`${dir}/${file}`, "utf8");
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    ca: read("ca.pem"),
    serverCert: read("server.pem"),
    serverKey: read("server.key"),
    clientCertFile: `${dir}/client.pem`,
    clientKeyFile: `${dir}/client.key`,
    clientCert: read("client.pem"),
    clientKey: read("client.key"),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A running HTTPS server with a certificate from a throwaway test CA. */
export interface TlsServer {
  url: string;
  port: number;
  /** The CA that signed the server's certificate, as PEM text (for `verify`). */
  ca: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A node:https server on 127.0.0.1 answering with `handler`, with a certificate from a fresh
 * CA made with openssl into a temp dir (removed on close).
 */
export async function tlsServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<TlsServer> {
  const pki = makeTestPki();
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = https.createServer({ key: pki.serverKey, cert: pki.serverCert }, handler);
  server.on("connection", (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ca: pki.ca,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      pki.remove();
    },
  };
}
