import { NextResponse } from 'next/server';
import { ApiError } from '@/server/graphql';
import {
  ADD_IMAGE,
  CREATE_PRODUCT,
  DELETE_PRODUCT,
  PRODUCT_BY_EXTERNAL_ID,
} from '@/server/queries';
import { assertSameOrigin, errorResponse, fileField } from '@/server/route-helpers';
import { sessionOrThrow } from '@/server/session';
import { textField } from '@/lib/form-data';

/**
 * One uploaded image: to a product by id, to the product with an externalId, or to a new
 * product. A product this request created is deleted again when its image is refused, so a bad
 * file leaves the catalog as it was; nothing that existed before is ever touched.
 *
 * mode: "product" (productId), "attach" (externalId must exist), "create" (externalId must
 * not exist), "ensure" (attach, or create when missing).
 */
export async function POST(req: Request): Promise<NextResponse> {
  try {
    assertSameOrigin(req);
    const { api, can } = await sessionOrThrow();
    if (!can('CATALOG_WRITE'))
      throw new ApiError(
        'This key has no CATALOG_WRITE scope, which uploads need.',
        'FORBIDDEN',
        403,
      );
    const form = await req.formData();
    const file = fileField(form, 'file');
    const mode = textField(form, 'mode');
    const externalId = textField(form, 'externalId');
    const image = { variable: 'image', file, name: file.name || 'upload' };

    let productId = textField(form, 'productId');
    let created = false;
    if (mode !== 'product') {
      if (!['attach', 'create', 'ensure'].includes(mode))
        throw new ApiError(`Unknown upload mode "${mode}"`, 'BAD_USER_INPUT', 400);
      if (!externalId)
        throw new ApiError(
          'No externalId could be read from this file name',
          'BAD_USER_INPUT',
          400,
        );
      const { productByExternalId: existing } = await api.query<{
        productByExternalId: { id: string } | null;
      }>(PRODUCT_BY_EXTERNAL_ID, { externalId });
      if (existing && mode === 'create') {
        throw new ApiError(
          `A product with externalId "${externalId}" already exists; choose "Add to existing products" to add images to it.`,
          'CONFLICT',
          409,
        );
      }
      if (!existing && mode === 'attach')
        throw new ApiError(`No product has externalId "${externalId}".`, 'NOT_FOUND', 404);
      if (existing) {
        productId = existing.id;
      } else {
        const title = textField(form, 'title') || externalId;
        const category = textField(form, 'category');
        const { createProduct } = await api.query<{ createProduct: { id: string } }>(
          CREATE_PRODUCT,
          {
            input: { externalId, title, ...(category ? { category } : {}) },
          },
        );
        productId = createProduct.id;
        created = true;
      }
    }
    if (!productId) throw new ApiError('No product to add the image to', 'BAD_USER_INPUT', 400);

    try {
      const { addProductImage } = await api.upload<{
        addProductImage: { id: string; sha256: string; width: number; height: number };
      }>(ADD_IMAGE, { productId }, [image]);
      return NextResponse.json({ productId, externalId, created, image: addProductImage });
    } catch (error) {
      if (created) await api.query(DELETE_PRODUCT, { id: productId }).catch(() => undefined);
      throw error;
    }
  } catch (error) {
    return errorResponse(error);
  }
}
