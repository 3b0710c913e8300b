// The catalog's invariants under concurrency: two connections (as two
// processes or two hosts would have) doing the same thing at the same moment
// end in one row, and the other one is told what happened. Each race runs
// many rounds, started together at a barrier.

#include "catalog/catalog.hpp"
#include "tests/support/catalog_location.hpp"
#include "tests/support/tempdir.hpp"

#include <doctest/doctest.h>

#include <barrier>
#include <functional>
#include <set>
#include <thread>

using namespace photodrop;

namespace {

constexpr int rounds = 20;

struct Shared {
    test::TempDir dir;
    std::string location = test::catalog_location(dir.path());
    std::unique_ptr<Catalog> one = open_catalog(location);
    std::unique_ptr<Catalog> two = open_catalog(location);
    Tenant tenant = one->add_tenant("demo", "Demo Studio");
    Job job = one->add_job(tenant.id, "job00001", "", Layout::Albums, JobStatus::Planned);

    NewUpload upload_at(const std::string& name, std::optional<Id> album = std::nullopt) const {
        NewUpload n;
        n.job_id = job.id;
        n.folder = Folder{album, Section::Individuals, false};
        n.filename = name;
        n.uid = 1000;
        n.data_path = "demo/staging/" + name;
        return n;
    }
};

// Runs `first` on catalog one and `second` on catalog two at the same moment;
// each returns what it was told.
template <class T>
std::pair<T, T> race(Shared& s, const std::function<T(Catalog&)>& act) {
    std::barrier start(2);
    T a{}, b{};
    std::thread other([&] {
        start.arrive_and_wait();
        b = act(*s.two);
    });
    start.arrive_and_wait();
    a = act(*s.one);
    other.join();
    return {a, b};
}

// "made", or the kind of refusal.
std::string outcome_of(const std::function<void()>& act) {
    try {
        act();
        return "made";
    } catch (const CatalogError& e) {
        switch (e.kind()) {
            case CatalogError::Kind::Exists: return "exists";
            case CatalogError::Kind::Conflict: return "conflict";
            case CatalogError::Kind::NotFound: return "not found";
            case CatalogError::Kind::Invalid: return "invalid";
        }
    }
    return "?";
}

}  // namespace

TEST_CASE("the same album made by two connections at once: one album, and the other is told it exists") {
    Shared s;
    for (int i = 0; i < rounds; ++i) {
        std::string name = "Class " + std::to_string(i);
        auto [a, b] = race<std::string>(s, [&](Catalog& c) { return outcome_of([&] { c.add_album(s.job.id, name); }); });
        CHECK(std::multiset<std::string>{a, b} == std::multiset<std::string>{"made", "exists"});
    }
    CHECK(s.one->albums(s.job.id).size() == rounds);
}

TEST_CASE("the same upload path created by two connections at once: one upload, the other is told it exists") {
    Shared s;
    for (int i = 0; i < rounds; ++i) {
        auto n = s.upload_at("IMG_" + std::to_string(i) + ".jpg");
        auto [a, b] = race<std::string>(s, [&](Catalog& c) { return outcome_of([&] { c.add_upload(n); }); });
        CHECK(std::multiset<std::string>{a, b} == std::multiset<std::string>{"made", "exists"});
        CHECK(s.one->uploads_in(s.job.id, Folder{}).size() == static_cast<size_t>(i + 1));
    }
    CHECK(s.one->uploads(s.job.id).size() == rounds);
}

TEST_CASE("a rename onto a name that another connection creates at the same moment: one upload at the name") {
    Shared s;
    for (int i = 0; i < rounds; ++i) {
        std::string name = "IMG_" + std::to_string(i) + ".jpg";
        auto moving = s.one->add_upload(s.upload_at("tmp_" + std::to_string(i) + ".part"));
        std::barrier start(2);
        std::string renamed, created;
        std::thread other([&] {
            start.arrive_and_wait();
            created = outcome_of([&] { s.two->add_upload(s.upload_at(name)); });
        });
        start.arrive_and_wait();
        renamed = outcome_of([&] { s.one->rename_upload(moving.id, Folder{}, name, std::nullopt, false); });
        other.join();
        CHECK(std::multiset<std::string>{renamed, created} == std::multiset<std::string>{"made", "exists"});
        auto at = s.one->upload_at(s.job.id, Folder{}, name);
        REQUIRE(at);
        CHECK((renamed == "made") == (at->id == moving.id));
    }
}

TEST_CASE("the same content filed by two connections at once: one photo, and the other upload is its duplicate") {
    Shared s;
    for (int i = 0; i < rounds; ++i) {
        auto a = s.one->add_upload(s.upload_at("a" + std::to_string(i) + ".jpg"));
        auto b = s.one->add_upload(s.upload_at("b" + std::to_string(i) + ".jpg"));
        s.one->close_upload(a.id, 10, 1, queue_always);
        s.one->close_upload(b.id, 10, 1, queue_always);
        REQUIRE(s.one->claim_next(60'000'000'000));
        REQUIRE(s.two->claim_next(60'000'000'000));
        IngestResult r;
        r.content_hash = std::string(63, 'c') + std::to_string(i % 10) + std::to_string(i);
        r.original_path = "demo/originals/" + r.content_hash + ".jpg";
        std::barrier start(2);
        Filed filed_a, filed_b;
        std::thread other([&] {
            start.arrive_and_wait();
            filed_b = s.two->file_ingest(b.id, r);
        });
        start.arrive_and_wait();
        filed_a = s.one->file_ingest(a.id, r);
        other.join();
        CHECK(filed_a.duplicate != filed_b.duplicate);
        CHECK(filed_a.photo.id == filed_b.photo.id);
        auto photo = s.one->photo_by_hash(s.job.id, r.content_hash);
        REQUIRE(photo);
        CHECK(photo->id == filed_a.photo.id);
        auto copy = s.one->upload(filed_a.duplicate ? a.id : b.id);
        CHECK(copy->state == UploadState::Ingested);
        CHECK(copy->duplicate);
        CHECK(copy->photo_id == photo->id);
        CHECK(copy->data_path == photo->original_path);
        CHECK(s.one->upload(photo->upload_id)->photo_id == photo->id);
    }
    CHECK(s.one->photos(s.job.id).size() == rounds);
}

TEST_CASE("two connections claiming from one queue never claim the same upload") {
    Shared s;
    constexpr int count = 60;
    for (int i = 0; i < count; ++i) {
        auto u = s.one->add_upload(s.upload_at("q" + std::to_string(i) + ".jpg"));
        s.one->close_upload(u.id, 10, 1, queue_always);
    }
    auto [a, b] = race<std::vector<Id>>(s, [](Catalog& c) {
        std::vector<Id> claimed;
        while (auto u = c.claim_next(60'000'000'000)) claimed.push_back(u->id);
        return claimed;
    });
    std::set<Id> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    CHECK(all.size() == a.size() + b.size());
    CHECK(all.size() == count);
    for (Id id : all) CHECK(s.one->upload(id)->attempts == 1);
}

TEST_CASE("an upload's state changes only along its lifecycle, and a refused change is a CatalogError") {
    Shared s;
    auto u = s.one->add_upload(s.upload_at("a.jpg"));
    s.one->close_upload(u.id, 10, 1, queue_always);
    CHECK_THROWS_WITH_AS(s.one->set_state(u.id, UploadState::Ingested), "upload 1 cannot go from queued to ingested",
                         CatalogError);
    s.one->delete_upload(u.id);
    CHECK_FALSE(s.one->reopen(u.id));
    CHECK(outcome_of([&] { s.one->set_state(u.id, UploadState::Queued); }) == "conflict");
    CHECK(s.one->upload(u.id)->state == UploadState::Deleted);
}

TEST_CASE("an overwrite and a rename over a file are one change each: made twice, undone, the catalog stays whole") {
    Shared s;
    auto first = s.one->add_upload(s.upload_at("a.jpg"));
    s.one->close_upload(first.id, 10, 1, queue_always);
    // Overwritten twice: each replacement deletes the one before, in the same transaction.
    auto second = s.one->replace_upload(first.id, "replaced", s.upload_at("a.jpg"));
    CHECK_THROWS_AS(s.two->replace_upload(first.id, "replaced", s.upload_at("a.jpg")), CatalogError);
    auto third = s.two->replace_upload(second.id, "replaced", s.upload_at("a.jpg"));
    CHECK(s.one->upload_at(s.job.id, Folder{}, "a.jpg")->id == third.id);
    CHECK(s.one->upload(first.id)->state == UploadState::Deleted);
    CHECK(s.one->upload(second.id)->state == UploadState::Deleted);
    // b.jpg renamed over a.jpg, and back: one live upload at each step.
    auto b = s.one->add_upload(s.upload_at("b.jpg"));
    CHECK(s.one->rename_upload(b.id, Folder{}, "a.jpg", third.id, true));  // a temporary name's real one: queued
    CHECK(s.one->upload(b.id)->state == UploadState::Queued);
    CHECK(s.one->upload(third.id)->state == UploadState::Deleted);
    CHECK(s.one->rename_upload(b.id, Folder{}, "b.jpg", std::nullopt, false) == false);
    CHECK_FALSE(s.one->upload_at(s.job.id, Folder{}, "a.jpg"));
    CHECK(s.one->upload_at(s.job.id, Folder{}, "b.jpg")->id == b.id);
    CHECK(s.one->uploads_in(s.job.id, Folder{}).size() == 1);
}
