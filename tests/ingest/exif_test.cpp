#include "ingest/exif.hpp"

#include <doctest/doctest.h>

using namespace photodrop::ingest;

TEST_CASE("exif_value takes the value out of libvips' text form") {
    CHECK(exif_value("Canon (Canon, ASCII, 6 components, 6 bytes)") == "Canon");
    CHECK(exif_value("EOS R5 (EOS R5, ASCII, 7 components, 7 bytes)") == "EOS R5");
    CHECK(exif_value("6 (Right-top, Short, 1 components, 2 bytes)") == "6 (Right-top, Short, 1 components, 2 bytes)");
    CHECK(exif_value("Nikon (Europe) (Nikon (Europe), ASCII, 15 components, 15 bytes)") == "Nikon (Europe)");
    CHECK(exif_value("  padded    (  padded   , ASCII, 12 components, 12 bytes)") == "padded");
    CHECK(exif_value("plain") == "plain");
    CHECK(exif_value("") == "");
}

TEST_CASE("capture_time turns EXIF's date into the catalog's form") {
    CHECK(capture_time("2024:05:17 10:20:30") == "2024-05-17 10:20:30");
    CHECK_FALSE(capture_time("0000:00:00 00:00:00"));
    CHECK_FALSE(capture_time("    :  :     :  :  "));
    CHECK_FALSE(capture_time("2024-05-17"));
    CHECK_FALSE(capture_time("2024:13:17 10:20:30"));
    CHECK_FALSE(capture_time(""));
}
