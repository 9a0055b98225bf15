'use strict';
// Meta's official Node Business SDK (facebook-nodejs-business-sdk, unmodified) against the cmis
// sandbox's fake Graph API: a Page feed post (read back, edited, listed; another one deleted), a
// photo by URL, an Instagram image container polled to FINISHED then published, a carousel, the
// publishing limit, and a wrong token answered with the SDK's own FacebookRequestError, code 190.
//
// Input: the sandbox program's JSON line, in the CMIS_SANDBOX environment variable or on stdin
// (run.sh starts the program and passes it). Exits 0 when every step passes; otherwise prints the
// failing step and exits 1.
//
// Pointing the SDK at the sandbox: FacebookAdsApi.call(method, path, params, files,
// useMultipartFormData, urlOverride) builds `${urlOverride || FacebookAdsApi.GRAPH}/${VERSION}/…`,
// and every object (Page, IGUser, …) calls it through the FacebookAdsApi instance it is given.
// GRAPH is a getter with no setter, so the one supported way in, without patching the SDK, is
// that public `urlOverride` argument: SandboxApi, a subclass, passes the sandbox's URL as its
// default. Everything else (URL and version, JSON bodies, list parameters, errors) is the SDK's.

const bizSdk = require('facebook-nodejs-business-sdk');

const { FacebookAdsApi, Page, PagePost, Photo, IGUser, IGMedia, ShadowIGMediaBuilder } = bizSdk;

function fail(step, message) {
  console.error(`FAIL ${step}: ${message}`);
  process.exit(1);
}

function check(step, ok, message) {
  if (!ok) {
    fail(step, message);
  }
}

/** The SDK's client, with the sandbox as its Graph host. */
function sandboxApi(url, token) {
  class SandboxApi extends FacebookAdsApi {
    call(method, path, params = {}, files = {}, useMultipartFormData = false, urlOverride = '') {
      return super.call(method, path, params, files, useMultipartFormData, urlOverride || url);
    }
  }
  // No crash reporter: it would post SDK crashes to graph.facebook.com.
  return new SandboxApi(token, 'en_US', false);
}

async function readConfig() {
  let raw = process.env.CMIS_SANDBOX;
  if (!raw) {
    raw = await new Promise((resolve) => {
      let text = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk) => {
        text += chunk;
        if (text.includes('\n')) {
          resolve(text.split('\n')[0]);
        }
      });
      process.stdin.on('end', () => resolve(text));
    });
  }
  let config;
  try {
    config = JSON.parse(raw);
  } catch (e) {
    fail('config', `the sandbox's line is not JSON: ${e.message}`);
  }
  for (const key of [
    'meta_url',
    'facebook_page_id',
    'facebook_page_token',
    'instagram_user_id',
    'instagram_token',
  ]) {
    check('config', typeof config[key] === 'string' && config[key] !== '', `no ${key}`);
  }
  return config;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a container with the SDK's ShadowIGMediaBuilder until its status_code is FINISHED. */
async function untilFinished(step, api, id) {
  const seen = [];
  for (let i = 0; i < 100; i += 1) {
    const container = await new ShadowIGMediaBuilder(id, {}, undefined, api).get([
      'status_code',
      'status',
    ]);
    seen.push(container.status_code);
    if (container.status_code === 'FINISHED') {
      return seen;
    }
    check(step, container.status_code === 'IN_PROGRESS', `status_code ${container.status_code}`);
    await sleep(100);
  }
  return fail(step, `still ${seen[seen.length - 1]} after 10 s`);
}

/** Runs `action`, which must fail with the SDK's FacebookRequestError; returns the error. */
async function sdkError(step, action) {
  try {
    await action();
  } catch (e) {
    check(step, e instanceof Error, `not an Error: ${e}`);
    check(step, e.name === 'FacebookRequestError', `${e.name}: ${e.message}`);
    check(step, e.constructor.name === 'FacebookRequestError', `class ${e.constructor.name}`);
    check(step, e.response && typeof e.response.code === 'number', 'no error code in the body');
    return e;
  }
  return fail(step, 'the call succeeded');
}

async function main() {
  const config = await readConfig();
  const url = config.meta_url;
  const pageId = config.facebook_page_id;
  const igId = config.instagram_user_id;
  const pageApi = sandboxApi(url, config.facebook_page_token);
  const igApi = sandboxApi(url, config.instagram_token);
  FacebookAdsApi.setDefaultApi(pageApi);
  const page = new Page(pageId, {}, undefined, pageApi);
  let steps = 0;
  const ok = (step, detail) => {
    steps += 1;
    console.log(`ok ${step}${detail ? `: ${detail}` : ''}`);
  };

  // 1. A Page feed post (the SDK posts its body as JSON), read back with fields, edited, and
  //    found in the Page's published posts; a second post deleted.
  const message = 'Hello from the official Node SDK';
  const created = await page.createFeed([], { message });
  check('feed post', new RegExp(`^${pageId}_\\d+$`).test(created.id), `id ${created.id}`);
  const post = await new PagePost(created.id, {}, undefined, pageApi).get([
    'id',
    'message',
    'created_time',
    'permalink_url',
  ]);
  check('feed post', post.message === message, `message read back: ${post.message}`);
  check('feed post', /^\d{4}-\d\d-\d\dT/.test(post.created_time), `created_time ${post.created_time}`);
  ok('feed post', created.id);
  // PagePost.update(fields, params) and .delete(fields, params), as the SDK declares them.
  const edited = await new PagePost(created.id, {}, undefined, pageApi).update([], {
    message: `${message} (edited)`,
  });
  check('edit post', edited.success === true, JSON.stringify(edited));
  const reread = await new PagePost(created.id, {}, undefined, pageApi).get(['message']);
  check('edit post', reread.message === `${message} (edited)`, `message ${reread.message}`);
  ok('edit post');
  const listed = await page.getPublishedPosts(['id', 'message']);
  check('published posts', listed.some((p) => p.id === created.id), 'the post is not listed');
  ok('published posts', `${listed.length} listed`);
  const doomed = await page.createFeed([], { message: 'to be deleted' });
  const deleted = await new PagePost(doomed.id, {}, undefined, pageApi).delete([], {});
  check('delete post', deleted.success === true, JSON.stringify(deleted));
  const gone = await sdkError('delete post', () =>
    new PagePost(doomed.id, {}, undefined, pageApi).get(['id']),
  );
  check('delete post', gone.response.code === 100 && gone.response.error_subcode === 33,
    `read after delete: ${JSON.stringify(gone.response)}`);
  ok('delete post');

  // 2. A photo by URL.
  const photo = await page.createPhoto([], {
    url: 'https://cdn.example.com/cat.jpg',
    caption: 'A cat',
  });
  check('photo', /^\d+$/.test(photo.id), `id ${photo.id}`);
  check('photo', photo.post_id === `${pageId}_${photo.id}`, `post_id ${photo.post_id}`);
  const photoRead = await new Photo(photo.id, {}, undefined, pageApi).get(['id', 'name', 'page_story_id']);
  check('photo', photoRead.name === 'A cat', `name ${photoRead.name}`);
  ok('photo', photo.id);

  // 3. An Instagram image container, polled to FINISHED, then published.
  const ig = new IGUser(igId, {}, undefined, igApi);
  const image = await ig.createMedia([], {
    image_url: 'https://cdn.example.com/a.jpg',
    caption: 'An image from the Node SDK',
  });
  const seen = await untilFinished('ig image', igApi, image.id);
  const published = await ig.createMediaPublish([], { creation_id: image.id });
  check('ig image', /^\d+$/.test(published.id), `media id ${published.id}`);
  const media = await new IGMedia(published.id, {}, undefined, igApi).get([
    'id',
    'caption',
    'media_type',
    'permalink',
  ]);
  check('ig image', media.media_type === 'IMAGE', `media_type ${media.media_type}`);
  check('ig image', /^https:\/\/www\.instagram\.com\/p\//.test(media.permalink), `permalink ${media.permalink}`);
  ok('ig image', `${seen.join(' → ')} → published as ${published.id}`);

  // 4. A carousel: two items (is_carousel_item as a JSON boolean), then the carousel with its
  //    children as a JSON array, as the SDK sends lists.
  const items = [];
  for (const name of ['one', 'two']) {
    const item = await ig.createMedia([], {
      image_url: `https://cdn.example.com/${name}.jpg`,
      is_carousel_item: true,
    });
    await untilFinished('carousel', igApi, item.id);
    items.push(item.id);
  }
  const carousel = await ig.createMedia([], {
    media_type: 'CAROUSEL',
    children: items,
    caption: 'A carousel from the Node SDK',
  });
  await untilFinished('carousel', igApi, carousel.id);
  const album = await ig.createMediaPublish([], { creation_id: carousel.id });
  const albumRead = await new IGMedia(album.id, {}, undefined, igApi).get(['media_type']);
  check('carousel', albumRead.media_type === 'CAROUSEL_ALBUM', `media_type ${albumRead.media_type}`);
  ok('carousel', album.id);

  // 5. The publishing limit: two posts used.
  const limits = await ig.getContentPublishingLimit(['quota_usage', 'config']);
  check('publishing limit', limits.length === 1, `${limits.length} items`);
  check('publishing limit', limits[0].quota_usage === 2, `quota_usage ${limits[0].quota_usage}`);
  const total = limits[0].config && limits[0].config.quota_total;
  check('publishing limit', Number.isInteger(total) && total > 0, `quota_total ${total}`);
  ok('publishing limit', `${limits[0].quota_usage} of ${total}`);

  // 6. A wrong token: the SDK's own FacebookRequestError, code 190, on Facebook and Instagram.
  const wrongApi = sandboxApi(url, 'EAAB-not-a-token-the-sandbox-issued');
  const fbError = await sdkError('wrong token', () =>
    new Page(pageId, {}, undefined, wrongApi).createFeed([], { message: 'never' }),
  );
  check('wrong token', fbError.response.code === 190, `code ${fbError.response.code}`);
  check('wrong token', fbError.response.type === 'OAuthException', `type ${fbError.response.type}`);
  check('wrong token', fbError.status === 400, `HTTP ${fbError.status}`);
  check('wrong token', typeof fbError.response.fbtrace_id === 'string', 'no fbtrace_id');
  const challenge = fbError.headers && fbError.headers['www-authenticate'];
  check('wrong token', /invalid_token/.test(challenge || ''), `WWW-Authenticate ${challenge}`);
  const igError = await sdkError('wrong token', () =>
    new IGUser(igId, {}, undefined, wrongApi).getContentPublishingLimit(['quota_usage']),
  );
  check('wrong token', igError.response.code === 190, `instagram code ${igError.response.code}`);
  check('wrong token', igError.response.is_transient === false,
    `instagram is_transient ${igError.response.is_transient}`);
  ok('wrong token', `${fbError.name} ${fbError.response.code}: ${fbError.message}`);

  const { version } = require('facebook-nodejs-business-sdk/package.json');
  console.log(`all ${steps} steps passed with facebook-nodejs-business-sdk ${version} (Graph ${FacebookAdsApi.VERSION})`);
}

const watchdog = setTimeout(() => fail('timeout', 'the steps took over 60 s'), 60000);
main()
  .then(() => {
    clearTimeout(watchdog);
    process.exit(0);
  })
  .catch((e) => {
    const body = e && e.response ? ` ${JSON.stringify(e.response)}` : '';
    fail('unexpected error', `${e && e.name}: ${e && e.message}${body}`);
  });
