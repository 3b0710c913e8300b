// Finding a mount's device in the mount table, to set its write-back limit.

#include "fusefs/writeback.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

using photodrop::fs::mounted_device;

TEST_CASE("a mount's device is read from the mount table, the latest mount at that path winning") {
    auto table = std::filesystem::temp_directory_path() / ("mountinfo-" + std::to_string(::getpid()));
    {
        std::ofstream out(table);
        out << "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
               "90 22 0:51 / /srv/photodrop/studio\\040one rw,nosuid shared:60 - fuse.photodrop photodrop:s rw\n"
               "95 22 0:52 / /srv/photodrop/b rw - fuse.photodrop photodrop:b rw\n"
               "97 95 0:53 / /srv/photodrop/b rw - fuse.photodrop photodrop:b rw\n";
    }
    CHECK(mounted_device("/srv/photodrop/studio one", table) == "0:51");
    CHECK(mounted_device("/srv/photodrop/b", table) == "0:53");
    CHECK(mounted_device("/srv/photodrop/studio", table).empty());
    CHECK(mounted_device("/srv/photodrop/b", "/nonexistent/mountinfo").empty());
    std::filesystem::remove(table);
}
