// Tests of the state stores: one contract suite run against MemoryStateStore
// and SqliteStateStore, then what only the SQLite store promises (files,
// sharing a file, options, errors, crash durability).
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "servants/memory_state_store.h"
#include "servants/sqlite_state_store.h"
#include "servants/state_store.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;
using Entries = std::vector<std::pair<std::string, std::string>>;
using Synchronous = SqliteStateStoreOptions::Synchronous;

// An OK absl::StatusOr whose value matches `value_matcher` (a value means
// equality); status_matchers.h has no such matcher yet.
MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

// A fresh directory under the test temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "korb_state_store_XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  std::string File(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

 private:
  std::string path_;
};

std::string AllBytes() {
  std::string s;
  for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  return s;
}

std::unique_ptr<SqliteStateStore> OpenOrDie(const std::string& path,
                                            SqliteStateStoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<SqliteStateStore>> store =
      SqliteStateStore::Open(path, std::move(options));
  EXPECT_THAT(store, IsOk());
  return store.ok() ? *std::move(store) : nullptr;
}

// A raw SQLite connection to the same file, to do what the store never does
// (hold a write lock, add a trigger, inspect the journal mode).
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawConnection() { sqlite3_close_v2(db_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Runs `sql`; returns SQLite's error message, empty on success.
  std::string Exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) return "";
    return sqlite3_errmsg(db_);
  }
  // The first column of the first row of `sql`.
  std::string Query(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    std::string result;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
        sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      if (text != nullptr) result = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(statement);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

// --- The StateStore contract, for every implementation ----------------------

enum class StoreKind { kMemory, kSqlite };

class StateStoreTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    if (GetParam() == StoreKind::kMemory) {
      store_ = std::make_unique<MemoryStateStore>();
    } else {
      // kNormal keeps the many commits below cheap; kFull is the default and
      // is exercised by the SQLite tests further down.
      store_ = OpenOrDie(dir_.File("state.db"), {.synchronous = Synchronous::kNormal});
      ASSERT_NE(store_, nullptr);
    }
  }

  TempDir dir_;
  std::unique_ptr<StateStore> store_;
};

INSTANTIATE_TEST_SUITE_P(Stores, StateStoreTest,
                         ::testing::Values(StoreKind::kMemory, StoreKind::kSqlite),
                         [](const ::testing::TestParamInfo<StoreKind>& info) {
                           return info.param == StoreKind::kMemory ? "Memory" : "Sqlite";
                         });

TEST_P(StateStoreTest, LoadOfMissingKeyIsNotFound) {
  // A key never saved has no state, and an empty store has no keys.
  EXPECT_THAT(store_->Load("nobody"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nobody")));
  EXPECT_THAT(store_->Contains("nobody"), IsOkAndHolds(false));
  EXPECT_THAT(store_->Size(), IsOkAndHolds(0u));
}

TEST_P(StateStoreTest, SaveThenLoadReturnsTheState) {
  // What Save stored, Load returns, and the key is counted.
  ASSERT_THAT(store_->Save("alice", "100"), IsOk());
  EXPECT_THAT(store_->Load("alice"), IsOkAndHolds(std::string("100")));
  EXPECT_THAT(store_->Contains("alice"), IsOkAndHolds(true));
  EXPECT_THAT(store_->Size(), IsOkAndHolds(1u));
}

TEST_P(StateStoreTest, SaveReplacesTheState) {
  // A second Save of a key replaces its state and does not add a key.
  ASSERT_THAT(store_->Save("alice", "a long first state"), IsOk());
  ASSERT_THAT(store_->Save("alice", "2nd"), IsOk());
  EXPECT_THAT(store_->Load("alice"), IsOkAndHolds(std::string("2nd")));
  EXPECT_THAT(store_->Size(), IsOkAndHolds(1u));
}

TEST_P(StateStoreTest, EraseRemovesTheKeyAndIsIdempotent) {
  // Erase removes one key only; erasing a missing key is OK.
  ASSERT_THAT(store_->Save("alice", "1"), IsOk());
  ASSERT_THAT(store_->Save("bob", "2"), IsOk());
  ASSERT_THAT(store_->Erase("alice"), IsOk());
  EXPECT_THAT(store_->Load("alice"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store_->Contains("alice"), IsOkAndHolds(false));
  EXPECT_THAT(store_->Load("bob"), IsOkAndHolds(std::string("2")));
  EXPECT_THAT(store_->Erase("alice"), IsOk());
  EXPECT_THAT(store_->Erase("never-saved"), IsOk());
  EXPECT_THAT(store_->Size(), IsOkAndHolds(1u));
}

TEST_P(StateStoreTest, StatesAreArbitraryBytes) {
  // NULs, every byte value, an empty state and a 4 MiB state come back intact.
  const std::string with_nuls("\0a\0\0b\0", 6);
  const std::string big(4 << 20, '\xa5');
  ASSERT_THAT(store_->Save("nuls", with_nuls), IsOk());
  ASSERT_THAT(store_->Save("bytes", AllBytes()), IsOk());
  ASSERT_THAT(store_->Save("empty", ""), IsOk());
  ASSERT_THAT(store_->Save("default", absl::string_view()), IsOk());
  ASSERT_THAT(store_->Save("big", big), IsOk());
  EXPECT_THAT(store_->Load("nuls"), IsOkAndHolds(with_nuls));
  EXPECT_THAT(store_->Load("bytes"), IsOkAndHolds(AllBytes()));
  EXPECT_THAT(store_->Load("empty"), IsOkAndHolds(std::string()));
  EXPECT_THAT(store_->Load("default"), IsOkAndHolds(std::string()));
  EXPECT_THAT(store_->Contains("empty"), IsOkAndHolds(true));
  absl::StatusOr<std::string> loaded = store_->Load("big");
  ASSERT_THAT(loaded, IsOk());
  EXPECT_TRUE(*loaded == big);  // Not EXPECT_EQ: a mismatch would print 4 MiB.
}

TEST_P(StateStoreTest, KeysAreOpaqueBytesWithoutNul) {
  // '/', quotes, UTF-8, bytes that are not UTF-8, the empty key and keys that
  // differ only in case or a trailing byte are all distinct keys.
  const std::vector<std::string> keys = {
      "bank/accounts/alice", "'; DROP TABLE korb_state; --", "Zürich 東京 🙂",
      "\xff\xfe\x80",        "",                              "Alice",
      "alice",               "alice ",                        "alice\x01"};
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_THAT(store_->Save(keys[i], absl::StrCat("state ", i)), IsOk()) << i;
  }
  EXPECT_THAT(store_->Size(), IsOkAndHolds(keys.size()));
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_THAT(store_->Load(keys[i]), IsOkAndHolds(absl::StrCat("state ", i))) << i;
  }
  ASSERT_THAT(store_->Erase(""), IsOk());
  EXPECT_THAT(store_->Contains(""), IsOkAndHolds(false));
  EXPECT_THAT(store_->Contains("alice"), IsOkAndHolds(true));
}

TEST_P(StateStoreTest, KeyWithNulIsRejected) {
  // Every operation refuses a key with a NUL byte and leaves the store alone.
  const std::string key("a\0b", 3);
  ASSERT_THAT(store_->Save("a", "untouched"), IsOk());
  EXPECT_THAT(store_->Save(key, "x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("NUL")));
  EXPECT_THAT(store_->Load(key), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Contains(key), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Erase(key), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Load("a"), IsOkAndHolds(std::string("untouched")));
  EXPECT_THAT(store_->Size(), IsOkAndHolds(1u));
}

TEST_P(StateStoreTest, SaveAllSavesEveryEntryLastOneWinning) {
  // A batch lands whole; a key listed twice keeps its last state; an empty
  // batch changes nothing.
  ASSERT_THAT(store_->Save("a", "old"), IsOk());
  const Entries entries = {{"a", "A1"}, {"b", "B"}, {"c", std::string("\0C", 2)}, {"a", "A2"}};
  ASSERT_THAT(store_->SaveAll(entries), IsOk());
  EXPECT_THAT(store_->Load("a"), IsOkAndHolds(std::string("A2")));
  EXPECT_THAT(store_->Load("b"), IsOkAndHolds(std::string("B")));
  EXPECT_THAT(store_->Load("c"), IsOkAndHolds(std::string("\0C", 2)));
  EXPECT_THAT(store_->SaveAll({}), IsOk());
  EXPECT_THAT(store_->Size(), IsOkAndHolds(3u));
}

TEST_P(StateStoreTest, SaveAllWithABadEntrySavesNone) {
  // One invalid key fails the batch and no entry of it lands, not even the
  // ones before it.
  ASSERT_THAT(store_->Save("a", "old"), IsOk());
  const Entries entries = {{"a", "new"}, {"b", "B"}, {std::string("bad\0", 4), "X"}, {"c", "C"}};
  EXPECT_THAT(store_->SaveAll(entries), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store_->Load("a"), IsOkAndHolds(std::string("old")));
  EXPECT_THAT(store_->Contains("b"), IsOkAndHolds(false));
  EXPECT_THAT(store_->Contains("c"), IsOkAndHolds(false));
  EXPECT_THAT(store_->Size(), IsOkAndHolds(1u));
}

TEST_P(StateStoreTest, HoldsManyKeys) {
  // 1000 keys in one batch plus 200 single saves, half of them overwrites.
  Entries entries;
  for (int i = 0; i < 1000; ++i) entries.emplace_back(absl::StrCat("obj/", i), absl::StrCat(i));
  ASSERT_THAT(store_->SaveAll(entries), IsOk());
  for (int i = 900; i < 1100; ++i) {
    ASSERT_THAT(store_->Save(absl::StrCat("obj/", i), absl::StrCat("v2-", i)), IsOk());
  }
  EXPECT_THAT(store_->Size(), IsOkAndHolds(1100u));
  for (int i = 0; i < 1100; ++i) {
    const std::string expected = i < 900 ? absl::StrCat(i) : absl::StrCat("v2-", i);
    ASSERT_THAT(store_->Load(absl::StrCat("obj/", i)), IsOkAndHolds(expected)) << i;
  }
}

TEST_P(StateStoreTest, ConcurrentSavesFromEightThreadsLoseNothing) {
  // 8 threads save, overwrite, read and erase their own keys at once; every
  // surviving key holds its last state.
  constexpr int kThreads = 8;
  constexpr int kKeysPerThread = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kKeysPerThread; ++i) {
        const std::string key = absl::StrCat("t", t, "/k", i);
        EXPECT_THAT(store_->Save(key, "first"), IsOk());
        EXPECT_THAT(store_->Save(key, absl::StrCat(t, ":", i)), IsOk());
        EXPECT_THAT(store_->Load(key), IsOkAndHolds(absl::StrCat(t, ":", i)));
        EXPECT_THAT(store_->Size(), IsOk());
      }
      EXPECT_THAT(store_->Save(absl::StrCat("t", t, "/doomed"), "x"), IsOk());
      EXPECT_THAT(store_->Erase(absl::StrCat("t", t, "/doomed")), IsOk());
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(store_->Size(), IsOkAndHolds(size_t{kThreads * kKeysPerThread}));
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeysPerThread; ++i) {
      EXPECT_THAT(store_->Load(absl::StrCat("t", t, "/k", i)),
                  IsOkAndHolds(absl::StrCat(t, ":", i)));
    }
  }
}

// --- SqliteStateStore -------------------------------------------------------

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }

  TempDir dir_;
};

TEST_F(SqliteStateStoreTest, StatePersistsAcrossReopen) {
  // With the default options (FULL), what was saved is there after closing
  // and reopening the file; erased keys stay erased.
  const std::string path = dir_.File("state.db");
  {
    std::unique_ptr<SqliteStateStore> store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_THAT(store->Save("alice", AllBytes()), IsOk());
    ASSERT_THAT(store->SaveAll(Entries{{"bob", "2"}, {"carol", "3"}}), IsOk());
    ASSERT_THAT(store->Erase("carol"), IsOk());
  }
  std::unique_ptr<SqliteStateStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->path(), path);
  EXPECT_THAT(store->Load("alice"), IsOkAndHolds(AllBytes()));
  EXPECT_THAT(store->Load("bob"), IsOkAndHolds(std::string("2")));
  EXPECT_THAT(store->Contains("carol"), IsOkAndHolds(false));
  EXPECT_THAT(store->Size(), IsOkAndHolds(2u));
}

TEST_F(SqliteStateStoreTest, UsesWalAndTheDocumentedSchema) {
  // The file is in WAL mode and holds the table named in the options.
  const std::string path = dir_.File("state.db");
  std::unique_ptr<SqliteStateStore> store = OpenOrDie(path, {.table = "servants"});
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->Save("k", "v"), IsOk());
  RawConnection raw(path);
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Query("SELECT CAST(state AS TEXT) FROM servants WHERE key = 'k'"), "v");
  EXPECT_EQ(raw.Query("SELECT typeof(key) || ',' || typeof(state) FROM servants"), "text,blob");
}

TEST_F(SqliteStateStoreTest, TwoStoresOnOneFileSeeEachOthersWrites) {
  // Two stores (two connections) on one file read what the other committed.
  const std::string path = dir_.File("state.db");
  std::unique_ptr<SqliteStateStore> first = OpenOrDie(path);
  std::unique_ptr<SqliteStateStore> second = OpenOrDie(path);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_THAT(first->Save("alice", "1"), IsOk());
  EXPECT_THAT(second->Load("alice"), IsOkAndHolds(std::string("1")));
  ASSERT_THAT(second->Save("alice", "2"), IsOk());
  ASSERT_THAT(second->SaveAll(Entries{{"bob", "b"}}), IsOk());
  EXPECT_THAT(first->Load("alice"), IsOkAndHolds(std::string("2")));
  EXPECT_THAT(first->Load("bob"), IsOkAndHolds(std::string("b")));
  ASSERT_THAT(first->Erase("bob"), IsOk());
  EXPECT_THAT(second->Contains("bob"), IsOkAndHolds(false));
  EXPECT_THAT(second->Size(), IsOkAndHolds(1u));
}

TEST_F(SqliteStateStoreTest, TwoStoresOnOneFileWriteConcurrently) {
  // Writers on two connections contend for the file's write lock; the busy
  // timeout makes them wait for each other instead of failing.
  const std::string path = dir_.File("state.db");
  std::unique_ptr<SqliteStateStore> stores[2] = {
      OpenOrDie(path, {.synchronous = Synchronous::kNormal}),
      OpenOrDie(path, {.synchronous = Synchronous::kNormal})};
  ASSERT_NE(stores[0], nullptr);
  ASSERT_NE(stores[1], nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&stores, t] {
      StateStore& store = *stores[t % 2];
      for (int i = 0; i < 50; ++i) {
        EXPECT_THAT(store.Save(absl::StrCat(t, "/", i), "s"), IsOk());
        EXPECT_THAT(store.SaveAll(Entries{{absl::StrCat(t, "/batch", i), "b"}}), IsOk());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(stores[0]->Size(), IsOkAndHolds(400u));
  EXPECT_THAT(stores[1]->Size(), IsOkAndHolds(400u));
}

TEST_F(SqliteStateStoreTest, TablesInOneFileAreSeparate) {
  // Stores with different tables share a file without seeing each other.
  const std::string path = dir_.File("state.db");
  std::unique_ptr<SqliteStateStore> accounts = OpenOrDie(path, {.table = "accounts"});
  std::unique_ptr<SqliteStateStore> order = OpenOrDie(path, {.table = "order"});  // A keyword.
  ASSERT_NE(accounts, nullptr);
  ASSERT_NE(order, nullptr);
  ASSERT_THAT(accounts->Save("k", "account"), IsOk());
  ASSERT_THAT(order->Save("k", "order"), IsOk());
  EXPECT_THAT(accounts->Load("k"), IsOkAndHolds(std::string("account")));
  EXPECT_THAT(order->Load("k"), IsOkAndHolds(std::string("order")));
}

TEST_F(SqliteStateStoreTest, BadOptionsAreRejected) {
  // Table names that are not identifiers, reserved names, a negative busy
  // timeout and non-file paths fail with INVALID_ARGUMENT and create nothing.
  const std::string path = dir_.File("state.db");
  for (const char* table : {"", "a-b", "1st", "x; DROP TABLE y", "a b", "\"q\"", "sqlite_master",
                            "SQLite_mine", "täble"}) {
    EXPECT_THAT(SqliteStateStore::Open(path, {.table = table}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("table")))
        << table;
  }
  EXPECT_THAT(SqliteStateStore::Open(path, {.table = std::string(65, 'x')}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SqliteStateStore::Open(path, {.busy_timeout = absl::Milliseconds(-1)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("busy_timeout")));
  EXPECT_THAT(SqliteStateStore::Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(SqliteStateStore::Open(":memory:"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(std::filesystem::exists(path));
  // The longest name and an infinite timeout are fine.
  EXPECT_THAT(SqliteStateStore::Open(path, {.table = std::string(64, 'x'),
                                            .busy_timeout = absl::InfiniteDuration()}),
              IsOk());
}

TEST_F(SqliteStateStoreTest, UnopenablePathIsAClearError) {
  // A file in a missing directory, and a directory, cannot be opened: the
  // error names the path and says why.
  const std::string missing = dir_.File("no/such/dir/state.db");
  EXPECT_THAT(SqliteStateStore::Open(missing),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       ::testing::AllOf(HasSubstr(missing), HasSubstr("unable to open"))));
  const std::string directory = dir_.File("a-directory");
  ASSERT_TRUE(std::filesystem::create_directory(directory));
  EXPECT_THAT(SqliteStateStore::Open(directory),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(directory)));
}

TEST_F(SqliteStateStoreTest, FileThatIsNotADatabaseIsAClearError) {
  // A file with other content is refused at Open, not at the first Save.
  const std::string path = dir_.File("notes.txt");
  std::ofstream(path) << std::string(4096, 'x');
  EXPECT_THAT(SqliteStateStore::Open(path),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a database")));
}

TEST_F(SqliteStateStoreTest, SaveAllRollsBackWhenAnEntryFailsInTheDatabase) {
  // A trigger makes the third insert of a batch fail inside the transaction:
  // the two before it are rolled back, and the store stays usable.
  const std::string path = dir_.File("state.db");
  std::unique_ptr<SqliteStateStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->Save("a", "old"), IsOk());
  RawConnection raw(path);
  ASSERT_EQ(raw.Exec("CREATE TRIGGER poison BEFORE INSERT ON korb_state "
                     "WHEN NEW.key = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned key'); END"),
            "");
  EXPECT_THAT(store->SaveAll(Entries{{"a", "new"}, {"b", "B"}, {"poison", "P"}, {"c", "C"}}),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("poisoned key")));
  EXPECT_THAT(store->Load("a"), IsOkAndHolds(std::string("old")));
  EXPECT_THAT(store->Contains("b"), IsOkAndHolds(false));
  EXPECT_THAT(store->Size(), IsOkAndHolds(1u));
  // No transaction was left open: others can write, and so can the store.
  EXPECT_EQ(raw.Exec("INSERT INTO korb_state VALUES('raw', x'00')"), "");
  EXPECT_THAT(store->SaveAll(Entries{{"a", "new"}, {"b", "B"}}), IsOk());
  EXPECT_THAT(store->Size(), IsOkAndHolds(3u));
}

TEST_F(SqliteStateStoreTest, WriterBlockedPastBusyTimeoutIsUnavailableWhileReadersProceed) {
  // Another connection holds the write lock: reads still work (WAL), a write
  // gives up after busy_timeout with UNAVAILABLE, and works once it is free.
  const std::string path = dir_.File("state.db");
  std::unique_ptr<SqliteStateStore> store =
      OpenOrDie(path, {.busy_timeout = absl::Milliseconds(20)});
  ASSERT_NE(store, nullptr);
  ASSERT_THAT(store->Save("a", "1"), IsOk());
  RawConnection raw(path);
  ASSERT_EQ(raw.Exec("BEGIN IMMEDIATE"), "");
  ASSERT_EQ(raw.Exec("INSERT INTO korb_state VALUES('uncommitted', x'00')"), "");
  EXPECT_THAT(store->Load("a"), IsOkAndHolds(std::string("1")));
  EXPECT_THAT(store->Contains("uncommitted"), IsOkAndHolds(false));
  EXPECT_THAT(store->Save("b", "2"), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("locked")));
  EXPECT_THAT(store->SaveAll(Entries{{"b", "2"}}), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_EQ(raw.Exec("COMMIT"), "");
  EXPECT_THAT(store->Save("b", "2"), IsOk());
  EXPECT_THAT(store->Size(), IsOkAndHolds(3u));
}

TEST_F(SqliteStateStoreTest, SavedStateSurvivesSigkillWithSynchronousNormal) {
  // A child process saves N keys with synchronous=NORMAL and kills itself
  // with SIGKILL the moment the last Save returns; the parent finds all N.
  constexpr int kKeys = 200;
  const std::string path = dir_.File("state.db");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child: no gtest assertions, only exit codes.
    absl::StatusOr<std::unique_ptr<SqliteStateStore>> store =
        SqliteStateStore::Open(path, {.synchronous = Synchronous::kNormal});
    if (!store.ok()) _exit(2);
    for (int i = 0; i < kKeys; ++i) {
      if (!(*store)->Save(absl::StrCat("key/", i), absl::StrCat("state ", i)).ok()) _exit(3);
    }
    raise(SIGKILL);
    _exit(4);  // Not reached.
  }
  int wait_status = 0;
  pid_t waited = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while ((waited = waitpid(pid, &wait_status, WNOHANG)) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (waited == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &wait_status, 0);
    FAIL() << "the child did not finish within 120 s";
  }
  ASSERT_EQ(waited, pid);
  ASSERT_TRUE(WIFSIGNALED(wait_status))
      << "child exited with " << (WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1);
  ASSERT_EQ(WTERMSIG(wait_status), SIGKILL);
  // The child never closed its connection: the WAL is still there, and
  // opening the file recovers every commit from it.
  EXPECT_TRUE(std::filesystem::exists(path + "-wal"));
  std::unique_ptr<SqliteStateStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Size(), IsOkAndHolds(size_t{kKeys}));
  for (int i = 0; i < kKeys; ++i) {
    EXPECT_THAT(store->Load(absl::StrCat("key/", i)),
                IsOkAndHolds(absl::StrCat("state ", i)));
  }
}

}  // namespace
}  // namespace korb
