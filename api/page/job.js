// The job page: albums and their sections with thumbnails, newest first,
// refused files with their reasons; kept up to date by server-sent events.
"use strict";
(function () {
  const job = document.body.dataset.job;
  const tenant = document.body.dataset.tenant;
  const api = (path, extra) => {
    const query = new URLSearchParams(extra || {});
    if (tenant) query.set("tenant", tenant);
    const q = query.toString();
    return "/v1/jobs/" + encodeURIComponent(job) + path + (q ? "?" + q : "");
  };
  const albums = document.getElementById("albums");
  const refusedBody = document.querySelector("#refused tbody");
  const shown = new Set();
  let count = 0;

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(url + ": " + response.status);
    return response.json();
  }

  async function allPages(path, extra) {
    const items = [];
    let after = null;
    for (let page = 0; page < 1000; page++) {
      const params = Object.assign({ limit: "1000" }, extra || {});
      if (after) params.after = after;
      const body = await getJson(api(path, params));
      items.push(...body.items);
      if (body.next === null) return items;
      after = body.next;
    }
    return items;
  }

  function sectionList(albumName, section) {
    const key = (albumName === null ? "" : albumName) + "\n" + section;
    let list = albums.querySelector('ul[data-key="' + CSS.escape(key) + '"]');
    if (list) return list;
    let block = albums.querySelector('section[data-album="' + CSS.escape(albumName === null ? "" : albumName) + '"]');
    if (!block) {
      block = document.createElement("section");
      block.dataset.album = albumName === null ? "" : albumName;
      const heading = document.createElement("h2");
      heading.textContent = albumName === null ? "Photos" : albumName;
      block.appendChild(heading);
      albums.appendChild(block);
    }
    const title = document.createElement("h3");
    title.textContent = section === "group" ? "Group" : "Individuals";
    list = document.createElement("ul");
    list.className = "grid";
    list.dataset.key = key;
    if (section === "group") block.appendChild(title), block.appendChild(list);
    else block.insertBefore(list, block.children[1] || null), block.insertBefore(title, list);
    return list;
  }

  function addAlbum(name) { sectionList(name, "individuals"); }

  function addPhoto(photo, fresh) {
    if (shown.has(photo.id)) return;
    shown.add(photo.id);
    const item = document.createElement("li");
    item.dataset.photo = photo.id;
    const img = document.createElement("img");
    img.src = photo.files.thumbnail + (tenant ? "?tenant=" + encodeURIComponent(tenant) : "");
    img.alt = photo.file + (photo.album ? ", " + photo.album : "") + ", " + photo.width + " by " + photo.height;
    img.loading = "lazy";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = photo.file;
    const subject = document.createElement("span");
    subject.className = "subject";
    item.append(img, name, subject);
    showSubject(item, photo.subject);
    if (fresh) item.classList.add("new");
    const list = sectionList(photo.album, photo.section);
    list.insertBefore(item, list.firstChild);  // newest first
    count++;
    document.getElementById("count").textContent = count;
    document.getElementById("empty").hidden = true;
  }

  function photoUrl(id) { return "/v1/photos/" + id + (tenant ? "?tenant=" + encodeURIComponent(tenant) : ""); }

  // Who is in the photo (school jobs): the roster's name, else the card's code.
  function showSubject(item, subject) {
    item.dataset.subject = subject ? subject.code : "";
    const who = subject ? (subject.name || subject.code) : "";
    item.querySelector(".subject").textContent = subject && subject.card ? "Card: " + who : who;
  }

  // A subject's photos changed: those it names now, and those that showed it,
  // are read again (a photo that left it is in no list of this event).
  async function refreshSubject(data) {
    const ids = new Set([...data.cards, ...data.photos].map(String));
    for (const item of albums.querySelectorAll("li[data-photo]"))
      if (item.dataset.subject === data.code) ids.add(item.dataset.photo);
    for (const id of ids) {
      const item = albums.querySelector('li[data-photo="' + id + '"]');
      if (!item) continue;
      try {
        showSubject(item, (await getJson(photoUrl(id))).subject);
      } catch (err) { /* deleted since */ }
    }
  }

  function addRefused(upload) {
    const key = "u" + upload.upload_id;
    if (shown.has(key)) return;
    shown.add(key);
    const row = document.createElement("tr");
    for (const text of [upload.path, upload.reason, upload.user || "uid " + upload.uid, upload.when || ""]) {
      const cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    }
    refusedBody.insertBefore(row, refusedBody.firstChild);
    document.getElementById("refused-section").hidden = false;
  }

  const formats = { filezilla: "FileZilla", winscp: "WinSCP", cyberduck: "Cyberduck", rclone: "rclone" };

  function addLogins(logins) {
    const body = document.querySelector("#logins tbody");
    for (const login of logins) {
      const row = document.createElement("tr");
      const name = document.createElement("td");
      name.textContent = login.username + (login.camera ? " (camera, album " + login.camera.album + ")" : "");
      row.appendChild(name);
      for (const protocol of ["sftp", "ftps"]) {
        const cell = document.createElement("td");
        for (const [format, label] of Object.entries(formats)) {
          const url = (login.client_config[protocol] || {})[format];
          if (!url) continue;
          const link = document.createElement("a");
          link.href = url + (tenant ? "&tenant=" + encodeURIComponent(tenant) : "");
          link.textContent = label;
          link.setAttribute("download", "");
          cell.append(link, " ");
        }
        row.appendChild(cell);
      }
      body.appendChild(row);
    }
    document.getElementById("connect-section").hidden = logins.length === 0;
  }

  async function load() {
    addLogins((await getJson(api("/logins"))).items);
    for (const album of (await getJson(api("/albums"))).items) addAlbum(album.name);
    const photos = await allPages("/photos");
    photos.sort((a, b) => a.id - b.id);
    for (const photo of photos) addPhoto(photo, false);
    for (const u of await allPages("/uploads", { state: "rejected" }))
      addRefused({ upload_id: u.id, path: u.path, reason: u.reason, user: u.user, uid: u.uid, when: u.updated_at });
  }

  function listen() {
    // From the last event before the page was made: what arrived while it
    // loaded comes again, and is shown once.
    const stream = new EventSource(api("/stream", { after: document.body.dataset.after }));
    const live = document.getElementById("live");
    stream.onopen = () => { live.textContent = "Live"; };
    stream.onerror = () => { live.textContent = "Reconnecting…"; };
    stream.addEventListener("photo.ingested", async (e) => {
      const event = JSON.parse(e.data);
      try { addPhoto(await getJson(photoUrl(event.photo_id)), true); } catch (err) { /* deleted since */ }
    });
    stream.addEventListener("subject.updated", (e) => refreshSubject(JSON.parse(e.data).data));
    stream.addEventListener("album.created", (e) => addAlbum(JSON.parse(e.data).data.album));
    stream.addEventListener("upload.rejected", (e) => {
      const event = JSON.parse(e.data);
      addRefused({ upload_id: event.upload_id, path: event.data.path, reason: event.data.reason,
                   user: event.data.user, uid: event.data.uid, when: event.timestamp });
    });
    stream.addEventListener("photo.deleted", (e) => {
      const item = albums.querySelector('li[data-photo="' + JSON.parse(e.data).photo_id + '"]');
      if (item) { item.remove(); count--; document.getElementById("count").textContent = count; }
    });
  }

  load().then(listen, (err) => { document.getElementById("live").textContent = "Could not load: " + err.message; });
})();
