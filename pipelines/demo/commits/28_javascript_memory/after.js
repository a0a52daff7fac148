'use strict';

const { EventEmitter } = require('events');

const HEARTBEAT_MS = 30000;

/**
 * Tracks which users have a live websocket connection to this gateway.
 * Emits 'online', 'offline' and 'stale' with the user id.
 */
class PresenceTracker extends EventEmitter {
  constructor() {
    super();
    this.sessions = new Map(); // socket -> { userId, lastSeen, timer }
  }

  attach(socket, userId) {
    const session = { userId, lastSeen: Date.now(), timer: null };
    const touch = () => {
      session.lastSeen = Date.now();
    };

    session.timer = setInterval(() => {
      if (Date.now() - session.lastSeen > HEARTBEAT_MS * 2) {
        this.emit('stale', userId);
        socket.terminate();
      } else {
        socket.ping();
      }
    }, HEARTBEAT_MS);

    socket.on('pong', touch);
    socket.on('message', touch);
    socket.on('close', () => {
      clearInterval(session.timer);
      socket.off('pong', touch);
      socket.off('message', touch);
      this.sessions.delete(socket);
      this.emit('offline', userId);
    });

    this.sessions.set(socket, session);
    this.emit('online', userId);
  }

  onlineUsers() {
    const users = new Set();
    for (const session of this.sessions.values()) {
      users.add(session.userId);
    }
    return [...users];
  }

  get size() {
    return this.sessions.size;
  }
}

module.exports = { PresenceTracker, HEARTBEAT_MS };
