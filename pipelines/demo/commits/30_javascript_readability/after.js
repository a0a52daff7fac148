'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { callbackify, promisify } = require('util');

/** Builds the storage key for a file from the SHA-256 of its contents. */
function contentKey(data, filePath) {
  const digest = crypto.createHash('sha256').update(data).digest('hex');
  return `assets/${digest.slice(0, 2)}/${digest}${path.extname(filePath).toLowerCase()}`;
}

/**
 * Uploads a local file to the asset store under a content-addressed key,
 * skipping the upload when an identical file is already stored.
 *
 * @param {{head: Function, put: Function}} client callback-style store client
 * @param {string} filePath
 * @returns {Promise<{key: string, uploaded: boolean}>}
 */
async function uploadAssetAsync(client, filePath) {
  const head = promisify(client.head.bind(client));
  const put = promisify(client.put.bind(client));

  const stats = await fs.promises.stat(filePath);
  if (!stats.isFile()) {
    throw new Error(`${filePath} is not a regular file`);
  }

  const data = await fs.promises.readFile(filePath);
  const key = contentKey(data, filePath);
  if (await head(key)) {
    return { key, uploaded: false };
  }

  await put(key, data, { contentLength: stats.size });
  return { key, uploaded: true };
}

const uploadAsset = callbackify(uploadAssetAsync);

module.exports = { uploadAsset, uploadAssetAsync };
