#include "api/idle_albums.hpp"

#include "catalog/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace photodrop::api {

IdleAlbums::IdleAlbums(std::string catalog_location, std::chrono::seconds idle,
                       std::function<void(const std::string&)> log)
    : thread_([location = std::move(catalog_location), idle, log = std::move(log)](std::stop_token stop) {
          // A quarter of the idle time between looks (at most 30 s, at least 1 s):
          // an album's event comes at most that late.
          auto every = std::clamp<std::chrono::milliseconds>(idle / 4, std::chrono::seconds(1), std::chrono::seconds(30));
          std::unique_ptr<Catalog> catalog;
          std::mutex mutex;
          std::condition_variable_any wake;
          while (!stop.stop_requested()) {
              try {
                  if (!catalog) catalog = open_catalog(location);
                  catalog->report_idle_albums(std::chrono::nanoseconds(idle).count(),
                                              std::chrono::nanoseconds(lookback).count());
              } catch (const std::exception& e) {
                  log(fmt::format("photodrop-api: album.idle: the catalog failed, trying again: {}", e.what()));
                  catalog.reset();
              }
              std::unique_lock lock(mutex);
              wake.wait_for(lock, stop, every, [] { return false; });
          }
      }) {}

}  // namespace photodrop::api
