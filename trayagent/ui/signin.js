// The key is sent once, in a header, for a one-time ticket; the ticket is what goes in the URL.
"use strict";
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = document.getElementById("problem");
  const key = document.getElementById("key").value.trim();
  try {
    const reply = await fetch("/api/ui-session", {
      method: "POST",
      headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" },
      body: "{}",
    });
    const data = await reply.json();
    if (!reply.ok) throw new Error((data.error && data.error.message) || "the proxy refused the key");
    const next = location.hash ? "&next=" + encodeURIComponent("/ui/" + location.hash) : "";
    location.href = "/ui/login?ticket=" + encodeURIComponent(data.ticket) + next;
  } catch (error) {
    problem.textContent = error.message.startsWith("the API key") ? "That key is not this proxy's key." : error.message;
  }
});
