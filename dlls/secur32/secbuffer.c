/*
 * SecBuffer helpers shared by the stream path (handshake.c, record.c) and the datagram path
 * (datagram.c): finding the caller's buffers, handing a token over, and reporting what a
 * call left where. They look at nothing but the SecBuffer structures (and allocate with
 * sg_context_buffer_alloc), so they can be built and fuzzed on their own.
 */

#include "secur32_priv.h"
#include "wine/debug.h"

WINE_DEFAULT_DEBUG_CHANNEL(schannel);

SecBuffer *sg_find_buffer(SecBufferDesc *desc, ULONG type, ULONG start)
{
    ULONG i;

    if (!desc || !desc->pBuffers) return NULL;
    for (i = start; i < desc->cBuffers; i++)
        if ((desc->pBuffers[i].BufferType & ~SECBUFFER_ATTRMASK) == type) return &desc->pBuffers[i];
    return NULL;
}

/* Where Schannel reports EXTRA or MISSING: the caller's spare (empty) input buffer. */
SecBuffer *sg_spare_input_buffer(SecBufferDesc *input, const SecBuffer *token)
{
    ULONG i;

    if (!input || !input->pBuffers) return NULL;
    for (i = 0; i < input->cBuffers; i++)
    {
        SecBuffer *buffer = &input->pBuffers[i];
        if (buffer == token) continue;
        if (buffer->BufferType == SECBUFFER_EMPTY || buffer->BufferType == SECBUFFER_EXTRA
            || buffer->BufferType == SECBUFFER_MISSING)
            return buffer;
    }
    return NULL;
}

/* A spare input buffer says how many bytes are EXTRA (left over) or MISSING. */
void sg_set_spare(SecBuffer *spare, ULONG type, ULONG size)
{
    spare->BufferType = type;
    spare->cbBuffer = size;
    spare->pvBuffer = NULL;
}

/* Hand our token (a stream token or one datagram) to the caller: its own SECBUFFER_TOKEN,
 * or memory it frees with FreeContextBuffer. */
SECURITY_STATUS sg_write_token(SecBufferDesc *output, BOOL allocate, const BYTE *token, ULONG size)
{
    SecBuffer *buffer = sg_find_buffer(output, SECBUFFER_TOKEN, 0);

    if (!buffer)
    {
        if (!size) return SEC_E_OK;
        WARN("no SECBUFFER_TOKEN for a %lu byte token\n", size);
        return SEC_E_INVALID_TOKEN;
    }
    if (allocate)
    {
        buffer->pvBuffer = NULL;
        buffer->cbBuffer = 0;
        if (!size) return SEC_E_OK;
        if (!(buffer->pvBuffer = sg_context_buffer_alloc(size))) return SEC_E_INSUFFICIENT_MEMORY;
    }
    else if (buffer->cbBuffer < size || (size && !buffer->pvBuffer))
    {
        WARN("token buffer of %lu bytes too small for %lu\n", buffer->cbBuffer, size);
        return SEC_E_INSUFFICIENT_MEMORY;
    }
    if (size) memcpy(buffer->pvBuffer, token, size);
    buffer->cbBuffer = size;
    return SEC_E_OK;
}

static BOOL bad_region(const SecBuffer *buffer)
{
    return buffer->cbBuffer && !buffer->pvBuffer;
}

/* EncryptMessage's STREAM_HEADER, DATA and STREAM_TRAILER; FALSE when one is missing or
 * has a size without memory. The caller checked message and message->pBuffers. */
BOOL sg_find_record_buffers(SecBufferDesc *message, SecBuffer **header, SecBuffer **data, SecBuffer **trailer)
{
    ULONG i;

    /* One pass; the first buffer of each type counts, as with sg_find_buffer. */
    *header = *data = *trailer = NULL;
    for (i = 0; i < message->cBuffers; i++)
    {
        SecBuffer *buffer = &message->pBuffers[i];

        switch (buffer->BufferType & ~SECBUFFER_ATTRMASK)
        {
        case SECBUFFER_STREAM_HEADER:  if (!*header) *header = buffer; break;
        case SECBUFFER_DATA:           if (!*data) *data = buffer; break;
        case SECBUFFER_STREAM_TRAILER: if (!*trailer) *trailer = buffer; break;
        }
    }
    return *header && *data && *trailer && !bad_region(*header) && !bad_region(*data) && !bad_region(*trailer);
}

/* What the engine says it opened (consumed, data_offset, data_size) fits the total bytes. */
BOOL sg_record_layout_valid(ULONG total, ULONG consumed, ULONG data_offset, ULONG data_size)
{
    return consumed <= total && data_offset + data_size <= consumed;
}

/* The index'th buffer of a message, when there is one. */
void sg_set_buffer(SecBufferDesc *message, ULONG index, ULONG type, BYTE *ptr, ULONG size)
{
    if (index >= message->cBuffers) return;
    message->pBuffers[index].BufferType = type;
    message->pBuffers[index].pvBuffer = ptr;
    message->pBuffers[index].cbBuffer = size;
}

/* A record opened in place at base (total bytes): STREAM_HEADER, DATA, STREAM_TRAILER, EXTRA
 * in the first four buffers, where Windows puts them (curl reads DATA at index 1 and EXTRA at
 * index 3). The stream path gives an empty header or trailer no pointer (DATA keeps its
 * pointer even when empty); the datagram path points every buffer into the record. */
void sg_report_record(SecBufferDesc *message, BYTE *base, ULONG total, ULONG consumed, ULONG data_offset,
                      ULONG data_size, BOOL stream)
{
    BYTE *data = base + data_offset, *trailer = data + data_size;
    ULONG trailer_size = consumed - data_offset - data_size;

    sg_set_buffer(message, 0, SECBUFFER_STREAM_HEADER, stream && !data_offset ? NULL : base, data_offset);
    sg_set_buffer(message, 1, SECBUFFER_DATA, data, data_size);
    sg_set_buffer(message, 2, SECBUFFER_STREAM_TRAILER, stream && !trailer_size ? NULL : trailer, trailer_size);
    if (consumed < total)
        sg_set_buffer(message, 3, SECBUFFER_EXTRA, base + consumed, total - consumed);
    else
        sg_set_buffer(message, 3, SECBUFFER_EMPTY, NULL, 0);
}

/* DecryptMessage on a partial record: the first empty buffer says how many bytes are missing. */
void sg_report_missing(SecBufferDesc *message, ULONG missing)
{
    SecBuffer *spare;

    if (!(spare = sg_find_buffer(message, SECBUFFER_EMPTY, 0))) return;
    spare->BufferType = SECBUFFER_MISSING;
    spare->cbBuffer = missing;
}
