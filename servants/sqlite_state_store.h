// korb::SqliteStateStore: a StateStore in a SQLite database file (Debian's
// libsqlite3), for servant state that must survive the process.
//
// The store keeps one table, `CREATE TABLE IF NOT EXISTS <table>(key TEXT
// PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID`, in a database in WAL
// mode. Keys are bound as TEXT with their explicit length (bytes are kept as
// they are, UTF-8 or not; NUL is rejected, see state_store.h), states as
// BLOBs. Several stores may open one file, in one process or in several:
// readers never wait for a writer (WAL), and a writer waits up to
// `busy_timeout` for another writer before failing with UNAVAILABLE.
//
// Limits: a row (key + state + a few bytes) must fit in SQLite's
// SQLITE_MAX_LENGTH, 1,000,000,000 bytes in Debian's build; a larger Save
// fails with INVALID_ARGUMENT. Keep keys short: they are the B-tree's keys,
// and every page of the table holds copies of some of them.
//
// Errors carry SQLite's message, the operation and the file name. Codes:
// UNAVAILABLE for SQLITE_BUSY / SQLITE_LOCKED / SQLITE_IOERR (retry may
// help), FAILED_PRECONDITION when the file cannot be opened or written or is
// not a database, RESOURCE_EXHAUSTED for a full disk or no memory, DATA_LOSS
// for a corrupt database, INVALID_ARGUMENT for bad options or a too-big row,
// NOT_FOUND from Load, INTERNAL for anything else.
//
// Thread-safety: thread-safe. Each store owns ONE connection and serializes
// every call on it under a mutex, so calls on one store never run in
// parallel (a slow fsync delays the Loads queued behind it). For parallel
// reads, open several stores on the same file.
//
// Usage:
//   ASSIGN_OR_RETURN(std::unique_ptr<korb::SqliteStateStore> store,
//                    korb::SqliteStateStore::Open("/var/lib/bank/state.db",
//                                                 {.synchronous = korb::SqliteStateStoreOptions::Synchronous::kNormal}));
//   RETURN_IF_ERROR(store->Save("accounts/alice", state));
#ifndef KORB_SERVANTS_SQLITE_STATE_STORE_H_
#define KORB_SERVANTS_SQLITE_STATE_STORE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/sync.h"
#include "servants/state_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace korb {

struct SqliteStateStoreOptions {
  // The table holding the states: an identifier ([A-Za-z_][A-Za-z0-9_]*, at
  // most 64 characters, not starting with "sqlite_"); else INVALID_ARGUMENT.
  // Stores with different tables may share one file.
  std::string table = "korb_state";

  // SQLite's `PRAGMA synchronous`, i.e. when a commit is flushed to disk.
  // With WAL (always used here):
  //   kFull:   fsync of the WAL at every commit. A Save that returned OK
  //            survives a process crash (SIGKILL) and a power loss or OS
  //            crash; costs an fsync per Save / SaveAll.
  //   kNormal: a commit is written to the WAL (the OS page cache) but not
  //            fsynced; fsyncs happen at checkpoints. A Save that returned OK
  //            survives a process crash (SIGKILL), but the last commits may
  //            be lost (never half-applied: the database stays consistent) on
  //            power loss or an OS crash. Much faster for small states.
  //   kOff:    no fsync at all; survives a process crash, but a power loss
  //            may corrupt the database. For scratch data only.
  enum class Synchronous { kOff, kNormal, kFull };
  Synchronous synchronous = Synchronous::kFull;

  // How long a call waits for another connection (another store or process
  // on the same file) holding the write lock before it fails with
  // UNAVAILABLE. Must not be negative; rounded down to milliseconds;
  // absl::InfiniteDuration() waits about 24 days.
  absl::Duration busy_timeout = absl::Seconds(5);
};

class SqliteStateStore final : public StateStore {
 public:
  using Options = SqliteStateStoreOptions;

  // Opens (creating it if needed) the database file `path`, switches it to
  // WAL mode and creates the table if missing. `path` is a file name, not a
  // URI; ":memory:" and "" are rejected (no WAL; use MemoryStateStore).
  // Errors: INVALID_ARGUMENT for bad options, FAILED_PRECONDITION when the
  // file cannot be opened or is not a database, UNAVAILABLE when it stays
  // locked for longer than `busy_timeout`.
  static absl::StatusOr<std::unique_ptr<SqliteStateStore>> Open(
      std::string path, SqliteStateStoreOptions options = {});

  // Closes the connection; the last connection to the file checkpoints the
  // WAL into the database. Calls must not be running.
  ~SqliteStateStore() override;
  SqliteStateStore(const SqliteStateStore&) = delete;
  SqliteStateStore& operator=(const SqliteStateStore&) = delete;

  absl::StatusOr<std::string> Load(absl::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<bool> Contains(absl::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  // One autocommit INSERT ... ON CONFLICT DO UPDATE.
  absl::Status Save(absl::string_view key, absl::string_view state) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // BEGIN IMMEDIATE, one upsert per entry, COMMIT; ROLLBACK on any failure.
  absl::Status SaveAll(absl::Span<const std::pair<std::string, std::string>> entries) override
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Erase(absl::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<size_t> Size() override ABSL_LOCKS_EXCLUDED(mu_);

  // The file this store was opened on.
  const std::string& path() const { return path_; }

 private:
  struct StatementDeleter {
    void operator()(sqlite3_stmt* statement) const;
  };
  using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

  SqliteStateStore(std::string path, sqlite3* db);

  // Runs the pragmas and CREATE TABLE, then prepares the statements.
  absl::Status Initialize(const SqliteStateStoreOptions& options) ABSL_LOCKS_EXCLUDED(mu_);
  // A prepared, persistent statement for `sql`.
  absl::StatusOr<Statement> Prepare(absl::string_view sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Steps `statement` (bound by the caller) to completion; resets it.
  absl::Status StepToDone(sqlite3_stmt* statement, absl::string_view what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Binds and runs the upsert for one entry.
  absl::Status Upsert(absl::string_view key, absl::string_view state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The status for SQLite result code `rc` from `what`, with the
  // connection's current error message.
  absl::Status Error(int rc, absl::string_view what) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  Mutex mu_;
  // Owned; closed in the destructor after the statements are finalized. The
  // connection is opened SQLITE_OPEN_NOMUTEX: mu_ is its only lock, and its
  // error message (sqlite3_errmsg) is read under mu_ right after the failure.
  sqlite3* const db_;
  // Prepared once and reused; each is reset and unbound after every use, so
  // none keeps a read transaction (and with it the WAL) pinned between calls.
  Statement load_ ABSL_GUARDED_BY(mu_);
  Statement contains_ ABSL_GUARDED_BY(mu_);
  Statement upsert_ ABSL_GUARDED_BY(mu_);
  Statement erase_ ABSL_GUARDED_BY(mu_);
  Statement size_ ABSL_GUARDED_BY(mu_);
  Statement begin_ ABSL_GUARDED_BY(mu_);
  Statement commit_ ABSL_GUARDED_BY(mu_);
  Statement rollback_ ABSL_GUARDED_BY(mu_);
};

}  // namespace korb

#endif  // KORB_SERVANTS_SQLITE_STATE_STORE_H_
