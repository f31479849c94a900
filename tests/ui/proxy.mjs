// A TCP relay on 127.0.0.1 in front of the test's jupyter lab, so a test can cut a page's
// network for real: `down()` resets every connection through it (the browser's WebSockets
// see an abnormal close, 1006) and refuses new ones until `up()`. Chromium's own offline
// emulation (DevTools' Network.emulateNetworkConditions, which playwright's
// context.setOffline uses) fails new requests but leaves open WebSockets open, so it cannot
// drop the notebook's socket.
import net from 'node:net';

export class TcpRelay {
  constructor(targetPort, host = '127.0.0.1') {
    this.targetPort = targetPort;
    this.host = host;
    this.connections = new Set();
    this.isDown = false;
    this.accepted = 0;
    this.refused = 0;
    this.server = net.createServer((client) => this._relay(client));
  }

  /** Listens on a free port; its base URL, e.g. http://127.0.0.1:PORT/. */
  async start() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, resolve);
    });
    this.port = this.server.address().port;
    this.baseUrl = `http://${this.host}:${this.port}/`;
    return this.baseUrl;
  }

  _relay(client) {
    if (this.isDown) {
      this.refused += 1;
      client.resetAndDestroy();
      return;
    }
    this.accepted += 1;
    const upstream = net.connect(this.targetPort, this.host);
    const pair = { client, upstream };
    this.connections.add(pair);
    const end = () => {
      this.connections.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Cuts the network: resets every open connection and refuses new ones. */
  down() {
    this.isDown = true;
    for (const { client, upstream } of [...this.connections]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.connections.clear();
  }

  /** Lets connections through again. */
  up() {
    this.isDown = false;
  }

  async stop() {
    this.down();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}
