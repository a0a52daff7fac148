'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

/**
 * Uploads a local file to the asset store under a content-addressed key,
 * skipping the upload when an identical file is already stored.
 *
 * @param {{head: Function, put: Function}} client callback-style store client
 * @param {string} filePath
 * @param {(err: ?Error, result?: {key: string, uploaded: boolean}) => void} callback
 */
function uploadAsset(client, filePath, callback) {
  fs.stat(filePath, (err, stats) => {
    if (err) return callback(err);
    if (!stats.isFile()) return callback(new Error(`${filePath} is not a regular file`));

    fs.readFile(filePath, (err, data) => {
      if (err) return callback(err);
      const digest = crypto.createHash('sha256').update(data).digest('hex');
      const key = `assets/${digest.slice(0, 2)}/${digest}${path.extname(filePath).toLowerCase()}`;

      client.head(key, (err, exists) => {
        if (err) return callback(err);
        if (exists) return callback(null, { key, uploaded: false });

        client.put(key, data, { contentLength: stats.size }, (err) => {
          if (err) return callback(err);
          callback(null, { key, uploaded: true });
        });
      });
    });
  });
}

module.exports = { uploadAsset };
