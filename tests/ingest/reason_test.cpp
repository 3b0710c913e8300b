// What reasons and notes say about a file: its name as the photographer knows it, never a host path, never nothing.

#include "ingest/reason.hpp"

#include <doctest/doctest.h>

using namespace photodrop::ingest;

TEST_CASE("a library's message names the file as the photographer knows it, not where this host keeps it") {
    FileNaming naming{"Class 1A/IMG_0001.jpg", {"demo/staging/upload-Pk0nQZ"}, "/srv/photodrop/data"};
    CHECK(stated("/srv/photodrop/data/demo/staging/upload-Pk0nQZ: bad seek to 81920", naming, "decoding") ==
          "Class 1A/IMG_0001.jpg: bad seek to 81920");
    CHECK(stated("TIFFFillStrip: demo/staging/upload-Pk0nQZ: Read error", naming, "decoding") ==
          "TIFFFillStrip: Class 1A/IMG_0001.jpg: Read error");
    // Another file under the data directory is shown relative to it.
    CHECK(stated("cannot write /srv/photodrop/data/demo/previews/ab/abcd.jpg: No space left", naming, "writing") ==
          "cannot write demo/previews/ab/abcd.jpg: No space left");
    // A data directory given with a trailing slash.
    naming.data_dir = "/srv/photodrop/data/";
    CHECK(stated("/srv/photodrop/data/demo/staging/upload-Pk0nQZ: bad seek", naming, "decoding") ==
          "Class 1A/IMG_0001.jpg: bad seek");
}

TEST_CASE("a reason is never empty and never ends in a colon with nothing after it") {
    FileNaming naming{"IMG_0001.jpg", {}, "/data"};
    CHECK(stated("", naming, "checking the image") == "checking the image failed and no detail was given");
    CHECK(stated("  \n", naming, "checking the image") == "checking the image failed and no detail was given");
    CHECK(stated("the image header cannot be read: ", naming, "checking the image") ==
          "the image header cannot be read (no detail was given)");
    CHECK(stated("VipsJpeg: Premature end of JPEG file", naming, "decoding") == "VipsJpeg: Premature end of JPEG file");
}
