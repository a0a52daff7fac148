(function () {
  'use strict';

  const MAX_PREVIEW = 280;

  function formatDate(iso) {
    return new Date(iso).toLocaleDateString(undefined, {
      year: 'numeric',
      month: 'short',
      day: 'numeric',
    });
  }

  function renderComment(comment) {
    const body = comment.body.length > MAX_PREVIEW
      ? `${comment.body.slice(0, MAX_PREVIEW)}…`
      : comment.body;

    return `
      <li class="comment" data-id="${comment.id}">
        <div class="comment__meta">
          <a class="comment__author" href="${comment.author.profileUrl}">${comment.author.name}</a>
          <time datetime="${comment.createdAt}">${formatDate(comment.createdAt)}</time>
        </div>
        <p class="comment__body">${body}</p>
      </li>`;
  }

  function renderThread(container, comments) {
    if (comments.length === 0) {
      container.innerHTML = '<p class="comments__empty">No comments yet.</p>';
      return;
    }
    container.innerHTML = `<ul class="comments">${comments.map(renderComment).join('')}</ul>`;
  }

  async function loadThread(container, articleId) {
    const response = await fetch(`/api/articles/${encodeURIComponent(articleId)}/comments`);
    if (!response.ok) {
      container.textContent = 'Comments are unavailable right now.';
      return;
    }
    renderThread(container, await response.json());
  }

  window.CommentThread = { loadThread, renderThread };
})();
