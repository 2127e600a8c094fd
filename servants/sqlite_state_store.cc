#include "servants/sqlite_state_store.h"

#include <sqlite3.h>

#include <climits>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace korb {
namespace {

constexpr size_t kMaxTableNameLength = 64;

// Maps a SQLite result code (primary or extended) to a status code; see the
// table in the header.
absl::StatusCode StatusCodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_PROTOCOL:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_NOTADB:
    case SQLITE_AUTH:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_CORRUPT:
      return absl::StatusCode::kDataLoss;
    case SQLITE_TOOBIG:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status MakeError(int rc, absl::string_view path, absl::string_view what,
                       absl::string_view message) {
  return absl::Status(StatusCodeFor(rc),
                      absl::StrCat("sqlite state store \"", absl::CEscape(path), "\": ", what,
                                   ": ", message, " (sqlite error ", rc, ")"));
}

absl::Status ValidateTableName(absl::string_view table) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("SqliteStateStoreOptions::table \"",
                                                   absl::CEscape(table), "\": ", why));
  };
  if (table.empty()) return invalid("empty");
  if (table.size() > kMaxTableNameLength) {
    return invalid(absl::StrCat("longer than ", kMaxTableNameLength, " characters"));
  }
  if (absl::ascii_isdigit(static_cast<unsigned char>(table[0]))) {
    return invalid("starts with a digit");
  }
  for (char c : table) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return invalid("not an identifier ([A-Za-z_][A-Za-z0-9_]*)");
    }
  }
  if (absl::StartsWithIgnoreCase(table, "sqlite_")) {
    return invalid("names starting with \"sqlite_\" are reserved by SQLite");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> BusyTimeoutMillis(absl::Duration timeout) {
  if (timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SqliteStateStoreOptions::busy_timeout is negative: ", absl::FormatDuration(timeout)));
  }
  if (timeout >= absl::Milliseconds(INT_MAX)) return INT_MAX;
  return static_cast<int>(absl::ToInt64Milliseconds(timeout));
}

absl::string_view SynchronousPragma(SqliteStateStoreOptions::Synchronous synchronous) {
  switch (synchronous) {
    case SqliteStateStoreOptions::Synchronous::kOff:
      return "PRAGMA synchronous=OFF";
    case SqliteStateStoreOptions::Synchronous::kNormal:
      return "PRAGMA synchronous=NORMAL";
    case SqliteStateStoreOptions::Synchronous::kFull:
      break;
  }
  return "PRAGMA synchronous=FULL";
}

// SQLite binds a null pointer as SQL NULL whatever the length, and an empty
// absl::string_view may have one; an empty key or state must stay a value.
const char* NonNullData(absl::string_view bytes) { return bytes.empty() ? "" : bytes.data(); }

int BindKey(sqlite3_stmt* statement, int index, absl::string_view key) {
  // SQLITE_STATIC: the statement is unbound (ScopedReset) before `key` can die.
  return sqlite3_bind_text64(statement, index, NonNullData(key), key.size(), SQLITE_STATIC,
                             SQLITE_UTF8);
}

int BindState(sqlite3_stmt* statement, int index, absl::string_view state) {
  return sqlite3_bind_blob64(statement, index, NonNullData(state), state.size(), SQLITE_STATIC);
}

// Resets and unbinds a statement when the scope ends, releasing the read
// transaction a SELECT holds until it is reset and the borrowed bindings.
class ScopedReset {
 public:
  explicit ScopedReset(sqlite3_stmt* statement) : statement_(statement) {}
  ~ScopedReset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* const statement_;
};

}  // namespace

void SqliteStateStore::StatementDeleter::operator()(sqlite3_stmt* statement) const {
  sqlite3_finalize(statement);
}

absl::StatusOr<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(
    std::string path, SqliteStateStoreOptions options) {
  RETURN_IF_ERROR(ValidateTableName(options.table));
  RETURN_IF_ERROR(BusyTimeoutMillis(options.busy_timeout).status());
  if (path.empty() || path == ":memory:") {
    return absl::InvalidArgumentError(
        absl::StrCat("SqliteStateStore needs a file name, not \"", path,
                     "\" (an in-memory database has no WAL; use MemoryStateStore)"));
  }
  if (path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError("SqliteStateStore path has a NUL byte");
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    // Even a failed open usually returns a handle, which carries the message
    // and must be closed.
    absl::Status status = MakeError(rc, path, "open", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return status;
  }
  std::unique_ptr<SqliteStateStore> store(new SqliteStateStore(std::move(path), db));
  RETURN_IF_ERROR(store->Initialize(options));
  return store;
}

SqliteStateStore::SqliteStateStore(std::string path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

SqliteStateStore::~SqliteStateStore() {
  MutexLock lock(&mu_);
  load_.reset();
  contains_.reset();
  upsert_.reset();
  erase_.reset();
  size_.reset();
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  sqlite3_close_v2(db_);
}

absl::Status SqliteStateStore::Initialize(const SqliteStateStoreOptions& options) {
  MutexLock lock(&mu_);
  sqlite3_extended_result_codes(db_, 1);
  ASSIGN_OR_RETURN(const int busy_millis, BusyTimeoutMillis(options.busy_timeout));
  sqlite3_busy_timeout(db_, busy_millis);

  // The first statement reads the file: a file that is not a database fails
  // here, not in sqlite3_open_v2.
  {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
    Statement journal_mode(raw);
    if (rc != SQLITE_OK) return Error(rc, "PRAGMA journal_mode=WAL");
    rc = sqlite3_step(journal_mode.get());
    if (rc != SQLITE_ROW) return Error(rc, "PRAGMA journal_mode=WAL");
    const unsigned char* mode = sqlite3_column_text(journal_mode.get(), 0);
    const std::string mode_name = mode ? reinterpret_cast<const char*>(mode) : "";
    if (!absl::EqualsIgnoreCase(mode_name, "wal")) {
      return absl::FailedPreconditionError(
          absl::StrCat("sqlite state store \"", absl::CEscape(path_),
                       "\": cannot switch to WAL mode; journal mode is \"", mode_name, "\""));
    }
  }
  const std::string synchronous(SynchronousPragma(options.synchronous));
  if (int rc = sqlite3_exec(db_, synchronous.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return Error(rc, synchronous);
  }
  // The table name is validated as an identifier, so quoting it is safe, and
  // makes keywords ("order") usable.
  const std::string table = absl::StrCat("\"", options.table, "\"");
  const std::string create = absl::StrCat("CREATE TABLE IF NOT EXISTS ", table,
                                          "(key TEXT PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID");
  if (int rc = sqlite3_exec(db_, create.c_str(), nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return Error(rc, "CREATE TABLE");
  }

  ASSIGN_OR_RETURN(load_, Prepare(absl::StrCat("SELECT state FROM ", table, " WHERE key = ?1")));
  ASSIGN_OR_RETURN(contains_, Prepare(absl::StrCat("SELECT 1 FROM ", table, " WHERE key = ?1")));
  ASSIGN_OR_RETURN(upsert_,
                   Prepare(absl::StrCat("INSERT INTO ", table,
                                        "(key, state) VALUES(?1, ?2) "
                                        "ON CONFLICT(key) DO UPDATE SET state = excluded.state")));
  ASSIGN_OR_RETURN(erase_, Prepare(absl::StrCat("DELETE FROM ", table, " WHERE key = ?1")));
  ASSIGN_OR_RETURN(size_, Prepare(absl::StrCat("SELECT count(*) FROM ", table)));
  ASSIGN_OR_RETURN(begin_, Prepare("BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(commit_, Prepare("COMMIT"));
  ASSIGN_OR_RETURN(rollback_, Prepare("ROLLBACK"));
  return absl::OkStatus();
}

absl::StatusOr<SqliteStateStore::Statement> SqliteStateStore::Prepare(absl::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Statement statement(raw);
  if (rc != SQLITE_OK) return Error(rc, absl::StrCat("prepare \"", sql, "\""));
  return statement;
}

absl::Status SqliteStateStore::StepToDone(sqlite3_stmt* statement, absl::string_view what) {
  ScopedReset reset(statement);
  int rc;
  do {
    rc = sqlite3_step(statement);
  } while (rc == SQLITE_ROW);
  return rc == SQLITE_DONE ? absl::OkStatus() : Error(rc, what);
}

absl::Status SqliteStateStore::Upsert(absl::string_view key, absl::string_view state) {
  ScopedReset reset(upsert_.get());
  int rc = BindKey(upsert_.get(), 1, key);
  if (rc == SQLITE_OK) rc = BindState(upsert_.get(), 2, state);
  if (rc != SQLITE_OK) return Error(rc, "Save: bind");
  return StepToDone(upsert_.get(), "Save");
}

absl::Status SqliteStateStore::Error(int rc, absl::string_view what) const {
  return MakeError(rc, path_, what, sqlite3_errmsg(db_));
}

absl::StatusOr<std::string> SqliteStateStore::Load(absl::string_view key) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  MutexLock lock(&mu_);
  sqlite3_stmt* const statement = load_.get();
  ScopedReset reset(statement);
  if (int rc = BindKey(statement, 1, key); rc != SQLITE_OK) return Error(rc, "Load: bind");
  const int rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) {
    // A zero-length blob comes back as a null pointer.
    const void* data = sqlite3_column_blob(statement, 0);
    const int size = sqlite3_column_bytes(statement, 0);
    return data == nullptr ? std::string() : std::string(static_cast<const char*>(data), size);
  }
  if (rc == SQLITE_DONE) {
    return absl::NotFoundError(absl::StrCat("sqlite state store \"", absl::CEscape(path_),
                                            "\": no state saved for key \"", absl::CEscape(key),
                                            "\""));
  }
  return Error(rc, "Load");
}

absl::StatusOr<bool> SqliteStateStore::Contains(absl::string_view key) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  MutexLock lock(&mu_);
  sqlite3_stmt* const statement = contains_.get();
  ScopedReset reset(statement);
  if (int rc = BindKey(statement, 1, key); rc != SQLITE_OK) return Error(rc, "Contains: bind");
  const int rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc, "Contains");
}

absl::Status SqliteStateStore::Save(absl::string_view key, absl::string_view state) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  MutexLock lock(&mu_);
  return Upsert(key, state);
}

absl::Status SqliteStateStore::SaveAll(
    absl::Span<const std::pair<std::string, std::string>> entries) {
  for (const auto& [key, state] : entries) RETURN_IF_ERROR(ValidateStateKey(key));
  if (entries.empty()) return absl::OkStatus();
  MutexLock lock(&mu_);
  // IMMEDIATE takes the write lock now (waiting up to busy_timeout), so the
  // transaction never has to upgrade a read lock, which SQLite may refuse
  // with SQLITE_BUSY without waiting.
  RETURN_IF_ERROR(StepToDone(begin_.get(), "SaveAll: BEGIN IMMEDIATE"));
  absl::Status status;
  for (const auto& [key, state] : entries) {
    status = Upsert(key, state);
    if (!status.ok()) break;
  }
  if (status.ok()) status = StepToDone(commit_.get(), "SaveAll: COMMIT");
  // Some errors (a full disk, I/O errors) have already rolled the transaction
  // back; only roll back one that is still open.
  if (!status.ok() && sqlite3_get_autocommit(db_) == 0) {
    (void)StepToDone(rollback_.get(), "SaveAll: ROLLBACK");
  }
  return status;
}

absl::Status SqliteStateStore::Erase(absl::string_view key) {
  RETURN_IF_ERROR(ValidateStateKey(key));
  MutexLock lock(&mu_);
  sqlite3_stmt* const statement = erase_.get();
  ScopedReset reset(statement);
  if (int rc = BindKey(statement, 1, key); rc != SQLITE_OK) return Error(rc, "Erase: bind");
  return StepToDone(statement, "Erase");
}

absl::StatusOr<size_t> SqliteStateStore::Size() {
  MutexLock lock(&mu_);
  sqlite3_stmt* const statement = size_.get();
  ScopedReset reset(statement);
  const int rc = sqlite3_step(statement);
  if (rc != SQLITE_ROW) return Error(rc, "Size");
  return static_cast<size_t>(sqlite3_column_int64(statement, 0));
}

}  // namespace korb
