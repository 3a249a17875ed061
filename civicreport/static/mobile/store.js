// The phone's memory in IndexedDB: "pending" submissions (until the server gives a final answer)
// and "receipts" of sent reports (id, receipt token, the last view seen) for 我的上报.
// Where IndexedDB is unavailable the same calls work on memory for this page view only.

const DB_NAME = "civicreport";
const VERSION = 1;
export const PENDING = "pending";
export const RECEIPTS = "receipts";

let opened = null;
const memory = { [PENDING]: new Map(), [RECEIPTS]: new Map() };
const keyPaths = { [PENDING]: "key", [RECEIPTS]: "id" };

function openDb() {
  opened ??= new Promise((resolve) => {
    let request;
    try {
      request = indexedDB.open(DB_NAME, VERSION);
    } catch {
      return resolve(null);
    }
    request.onupgradeneeded = () => {
      for (const [store, keyPath] of Object.entries(keyPaths)) request.result.createObjectStore(store, { keyPath });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
  return opened;
}

// True when what is saved here survives closing the page.
export async function persistent() {
  return (await openDb()) !== null;
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

export async function all(store) {
  const db = await openDb();
  if (!db) return [...memory[store].values()];
  const request = db.transaction(store).objectStore(store).getAll();
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function put(store, value) {
  const db = await openDb();
  if (!db) return void memory[store].set(value[keyPaths[store]], value);
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).put(value);
  return finished(tx);
}

export async function remove(store, key) {
  const db = await openDb();
  if (!db) return void memory[store].delete(key);
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).delete(key);
  return finished(tx);
}

// A pending submission became a report: drop it and keep the receipt in one transaction,
// so a crash in between neither loses the receipt nor leaves the submission to be sent again.
export async function settle(pendingKey, receipt) {
  const db = await openDb();
  if (!db) {
    memory[PENDING].delete(pendingKey);
    return void memory[RECEIPTS].set(receipt.id, receipt);
  }
  const tx = db.transaction([PENDING, RECEIPTS], "readwrite");
  tx.objectStore(PENDING).delete(pendingKey);
  tx.objectStore(RECEIPTS).put(receipt);
  return finished(tx);
}
