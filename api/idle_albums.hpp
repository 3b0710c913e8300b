#pragma once
// album.idle, written by photodrop-api: a thread of its own looks now and
// then for albums that took no upload for `idle` after at least one
// (ApiCatalog::report_idle_albums). Several hosts may run it: each album's
// event is written once.

#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace photodrop::api {

class IdleAlbums {
public:
    // `log` takes one line for each trouble with the catalog (it is tried again).
    IdleAlbums(std::string catalog_location, std::chrono::seconds idle, std::function<void(const std::string&)> log);
    ~IdleAlbums() = default;  // the jthread stops and joins
    IdleAlbums(const IdleAlbums&) = delete;
    IdleAlbums& operator=(const IdleAlbums&) = delete;

    // How far back an album's last upload may lie and still be reported: an
    // album that went idle while no photodrop-api ran for longer is not.
    static constexpr std::chrono::hours lookback{1};

private:
    std::jthread thread_;
};

}  // namespace photodrop::api
